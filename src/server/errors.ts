/** OpenAI-style errors: what the `openai` client parses into APIError (status, message, type, param, code). */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504;

export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly type: string = defaultType(status),
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 429) return "rate_limit_exceeded";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** Maps any upstream status onto one this server answers with (others become 502). */
export function toErrorStatus(status: number): ErrorStatus {
  const allowed: readonly number[] = [400, 401, 403, 404, 408, 413, 415, 422, 429, 500, 502, 503, 504];
  return (allowed.includes(status) ? status : status >= 500 ? 502 : 400) as ErrorStatus;
}
