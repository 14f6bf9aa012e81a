/**
 * @module Reading an HTTP request's body and caller headers, before the proxy sees them: JSON text that
 * is empty, malformed or nested too deep is the caller's 400, and `x-triage-tags` becomes caller tags.
 */
import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.js";

/**
 * hono's bodyLimit, without its cost on the usual path: a body with a Content-Length (which node's parser
 * holds the body to) is judged by that header, read from node's own headers. Reaching for `c.req.raw.body`,
 * as bodyLimit does first, makes @hono/node-server build a full WHATWG Request and read the body through a
 * web stream: a tenth of a proxied request's CPU when profiled. Chunked bodies still go through bodyLimit.
 */
export function limitBody(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler {
  const counted = bodyLimit({ maxSize, onError });
  return (c, next) => {
    const headers = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.headers;
    const length = headers?.["content-length"];
    if (headers === undefined || length === undefined || headers["transfer-encoding"] !== undefined) return counted(c, next);
    return Number.parseInt(length, 10) > maxSize ? Promise.resolve(onError(c)) : next();
  };
}

/** Deeper nesting than any chat request needs; bounded so no later step (serialising upstream) can overflow the stack. */
export const MAX_JSON_DEPTH = 400;

/** Parses a JSON body text; a syntax error or excessive nesting is the caller's 400, not a 500. */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (text.trim() === "") throw new ApiError(400, "request body is empty; expected a JSON object", "invalid_request_error", null, "invalid_json");
  if (nestingExceeds(text, maxDepth))
    throw new ApiError(400, `request body nests arrays/objects more than ${maxDepth} levels deep (the limit is ${maxDepth})`, "invalid_request_error", null, "json_too_deep");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `request body is not valid JSON: ${(err as Error).message}`, "invalid_request_error", null, "invalid_json");
  }
}

/** True when JSON text opens more than `limit` arrays/objects at once (brackets inside strings do not count). One pass, no parse. */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** `x-triage-tags: team=search, feature=chat` plus the OpenAI `user` field. */
export function callerTags(header: string | undefined, user: string | undefined): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  for (const pair of (header ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key !== "" && value !== "") tags[key.slice(0, 64)] = value.slice(0, 256);
  }
  if (user !== undefined && user !== "") tags.user = user.slice(0, 256);
  return Object.keys(tags).length ? tags : undefined;
}
