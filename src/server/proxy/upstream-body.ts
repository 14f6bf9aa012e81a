/** The request body sent upstream for one tier: its model, system prompt and token budget. */
import type { ServerConfig } from "../config.js";
import type { ChatMessage, ChatRequest } from "./request.js";
import type { Tier } from "./tiers.js";

export function upstreamBody(request: ChatRequest, tier: Tier & { model: string }, mode: ServerConfig["systemPrompt"]): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, model: tier.model, messages: withSystemPrompt(request.messages, tier.systemPrompt, mode) };
  // The tier's budget caps what the caller asked for; the caller's field name is kept (o1-style models need max_completion_tokens).
  if (tier.maxTokens !== undefined) {
    if (typeof request.max_completion_tokens === "number") body.max_completion_tokens = Math.min(request.max_completion_tokens, tier.maxTokens);
    else body.max_tokens = Math.min(typeof request.max_tokens === "number" ? request.max_tokens : Infinity, tier.maxTokens);
  }
  if (request.stream === true) {
    // Always ask for usage so cost can be computed; the SSE pass-through drops it again if the caller did not ask.
    const so = (request as { stream_options?: Record<string, unknown> }).stream_options ?? {};
    body.stream_options = { ...so, include_usage: true };
  }
  return body;
}

export function callerWantsUsage(request: ChatRequest): boolean {
  return (request as { stream_options?: { include_usage?: unknown } }).stream_options?.include_usage === true;
}

function withSystemPrompt(messages: readonly ChatMessage[], prompt: string | undefined, mode: ServerConfig["systemPrompt"]): ChatMessage[] {
  if (!prompt || mode === "off") return [...messages];
  const first = messages[0];
  if (mode === "merge" && first && (first.role === "system" || first.role === "developer") && typeof first.content === "string")
    return [{ ...first, content: `${prompt}\n\n${first.content}` }, ...messages.slice(1)];
  return [{ role: "system", content: prompt }, ...messages];
}
