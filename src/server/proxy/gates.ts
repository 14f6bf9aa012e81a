/**
 * Quality gates on a cheaper tier's (non-streamed) answer. A failed gate sends the request to the next
 * tier; the cheap answer is kept in case the escalation itself fails.
 */
import type { ServerConfig } from "../config.js";
import type { ChatRequest } from "./request.js";

export type GateName = "too_short" | "uncertain" | "invalid_json" | "validator" | "no_content";

export interface GateVerdict {
  pass: boolean;
  gate?: GateName;
  reason?: string;
}

export interface ValidatorInput {
  tier: string;
  model: string;
  request: ChatRequest;
  /** The assistant message text of the first choice. */
  content: string;
  response: Record<string, unknown>;
}

/** A caller-supplied check (library API): return false, or { pass: false, reason }, to escalate. */
export type Validator = (input: ValidatorInput) => boolean | { pass: boolean; reason?: string } | Promise<boolean | { pass: boolean; reason?: string }>;

export function answerText(response: Record<string, unknown>): string | undefined {
  const choices = response.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const message = (choices[0] as { message?: { content?: unknown } }).message;
  return typeof message?.content === "string" ? message.content : undefined;
}

function wantsJson(request: ChatRequest): boolean {
  const format = (request as { response_format?: { type?: unknown } }).response_format;
  return format?.type === "json_object" || format?.type === "json_schema";
}

function hasToolCalls(response: Record<string, unknown>): boolean {
  const choices = response.choices as Array<{ message?: { tool_calls?: unknown[] } }> | undefined;
  return Array.isArray(choices?.[0]?.message?.tool_calls) && choices[0].message!.tool_calls!.length > 0;
}

export async function checkGates(gates: ServerConfig["gates"], input: Omit<ValidatorInput, "content">, validator?: Validator): Promise<GateVerdict> {
  if (!gates.enabled && !validator) return { pass: true };
  // Tool calls carry no text to judge; they are not weak answers.
  if (hasToolCalls(input.response)) return { pass: true };
  const content = answerText(input.response);
  if (gates.enabled) {
    if (content === undefined) return { pass: false, gate: "no_content", reason: "the answer has no message content" };
    const trimmed = content.trim();
    if (gates.minChars > 0 && trimmed.length < gates.minChars) return { pass: false, gate: "too_short", reason: `answer is ${trimmed.length} characters, below ${gates.minChars}` };
    const lower = trimmed.toLowerCase().replace(/’/g, "'");
    const phrase = gates.phrases.find((p) => lower.includes(p.toLowerCase()));
    if (phrase !== undefined) return { pass: false, gate: "uncertain", reason: `answer contains "${phrase}"` };
    if (gates.json && wantsJson(input.request)) {
      try {
        JSON.parse(trimmed);
      } catch {
        return { pass: false, gate: "invalid_json", reason: "JSON was asked for and the answer does not parse" };
      }
    }
  }
  if (validator) {
    const v = await validator({ ...input, content: content ?? "" });
    const verdict = typeof v === "boolean" ? { pass: v } : v;
    if (!verdict.pass) return { pass: false, gate: "validator", reason: verdict.reason ?? "the validator rejected the answer" };
  }
  return { pass: true };
}
