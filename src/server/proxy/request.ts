/**
 * @module Validation of incoming bodies and the text the router sees. Chat bodies are checked only as far as
 * routing needs (messages, model, stream); every other field is forwarded untouched, so new OpenAI
 * parameters keep working without a server change.
 */
import { z } from "zod";
import { ApiError } from "../errors.js";

const textPart = z.object({ type: z.literal("text"), text: z.string() }).passthrough();
const otherPart = z.object({ type: z.string() }).passthrough();
const contentSchema = z.union([z.string(), z.array(z.union([textPart, otherPart])), z.null()]);

export const chatMessageSchema = z.object({ role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]), content: contentSchema.optional() }).passthrough();

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(chatMessageSchema).min(1),
    stream: z.boolean().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    user: z.string().optional(),
  })
  .passthrough();

export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const routeRequestSchema = z
  .object({
    text: z.string().min(1).optional(),
    messages: z.array(chatMessageSchema).min(1).optional(),
    /** Caller tags logged with the decision. */
    tags: z.record(z.string(), z.string()).optional(),
    topK: z.number().int().min(0).max(50).optional(),
  })
  .strict()
  .refine((r) => (r.text === undefined) !== (r.messages === undefined), { message: "give exactly one of `text` or `messages`" });

export type RouteRequest = z.infer<typeof routeRequestSchema>;

/** Parses with a schema, turning the first issue into a 400 naming the field (OpenAI's `param`) and the real problem. */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue.path.length ? issue.path.map(String).join(".") : null;
  const value = valueAt(body, issue.path);
  if (param !== null && value === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union"))
    throw new ApiError(400, `missing required parameter "${param}"`, "invalid_request_error", param, "missing_required_parameter");
  const expected = expectedTypes(issue);
  if (expected.length > 0) {
    const what = param === null ? "the request body" : `"${param}"`;
    throw new ApiError(400, `${what} must be ${listOr(expected.map(withArticle))}, got ${typeName(value)}`, "invalid_request_error", param, "invalid_type");
  }
  throw new ApiError(400, `${param !== null ? `${param}: ` : ""}${issue.message}`, "invalid_request_error", param, "invalid_value");
}

/** The types an invalid_type issue (or a union whose every branch failed on the value's own type) expected. */
function expectedTypes(issue: z.core.$ZodIssue): string[] {
  if (issue.code === "invalid_type") return [issue.expected === "int" ? "integer" : issue.expected];
  if (issue.code !== "invalid_union") return [];
  const firsts = issue.errors.map((branch) => branch[0]);
  if (firsts.length === 0 || !firsts.every((i) => i?.code === "invalid_type" && i.path.length === 0)) return [];
  return [...new Set(firsts.flatMap((i) => expectedTypes(i!)))];
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isInteger(v)) return "a fractional number";
  return typeof v;
}

const withArticle = (t: string) => (t === "null" ? "null" : `${/^[aeiou]/.test(t) ? "an" : "a"} ${t}`);
const listOr = (items: string[]) => (items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`);

export function messageText(message: ChatMessage): string {
  const c = message.content;
  if (typeof c === "string") return c;
  if (!Array.isArray(c)) return "";
  return c
    .map((p) => (p.type === "text" && typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : ""))
    .filter((t) => t !== "")
    .join("\n");
}

/**
 * The text routed on: the last user message, preceded by up to `contextMessages` earlier user/assistant
 * messages. Context is cut from its start so the router's own length cap never drops the last message.
 */
export function routingText(messages: readonly ChatMessage[], contextMessages = 0, contextMaxChars = 2000): string {
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i].role === "user" && messageText(messages[i]).trim() !== "") {
      last = i;
      break;
    }
  if (last < 0) throw new ApiError(400, "messages: no user message with text content to route on", "invalid_request_error", "messages", "invalid_value");
  const query = messageText(messages[last]);
  if (contextMessages === 0) return query;
  const context = messages
    .slice(0, last)
    .filter((m) => m.role === "user" || m.role === "assistant")
    .slice(-contextMessages)
    .map(messageText)
    .filter((t) => t.trim() !== "")
    .join("\n");
  if (context === "") return query;
  return `${context.length > contextMaxChars ? context.slice(context.length - contextMaxChars) : context}\n${query}`;
}
