/**
 * @module Conversations stay on one model: switching mid-conversation changes the voice of the answers
 * and re-bills the whole context (the provider's prompt cache is lost). A conversation is named by the
 * caller's `x-triage-conversation` header, else by a hash of its system prompt and first user message
 * (both stay at the start of every later turn's messages). Its model is remembered in memory for a
 * while after its last turn; a failed quality gate moves it up, and it stays there. Under `triage serve
 * --workers N` the memory lives in the primary and workers reach it through a ConversationStore
 * (server/cluster/conversations.ts), so a conversation keeps its model whichever worker gets a turn.
 */
import { createHash } from "node:crypto";
import { messageText, type ChatMessage } from "./request.js";

export interface ConversationRef {
  id: string;
  /** A later turn: the caller named the conversation, or the messages already hold an answer. */
  continuing: boolean;
}

const HEADER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The conversation a chat request belongs to; undefined when the header is malformed and there is no user message. */
export function conversationOf(header: string | undefined, messages: readonly ChatMessage[]): ConversationRef | undefined {
  if (header !== undefined && HEADER_ID.test(header)) return { id: header, continuing: true };
  const system = messages.find((m) => m.role === "system" || m.role === "developer");
  const firstUser = messages.find((m) => m.role === "user");
  if (!firstUser) return undefined;
  const digest = createHash("sha256")
    .update(system ? messageText(system) : "")
    .update("\u0000")
    .update(messageText(firstUser))
    .digest("hex");
  return { id: `h:${digest.slice(0, 24)}`, continuing: messages.some((m) => m.role === "assistant") };
}

/** Which model each live conversation is on: bounded, forgotten `ttlMs` after its last turn. */
export class ConversationMemory {
  private readonly entries = new Map<string, { label: string; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  get(id: string, now = Date.now()): string | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(id);
      return undefined;
    }
    return e.label;
  }

  set(id: string, label: string, now = Date.now()): void {
    this.entries.delete(id); // re-inserted last: the map's order is least recently used first
    this.entries.set(id, { label, expires: now + this.ttlMs });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /**
   * Makes `label` the conversation's model unless it already has one of `keep` (which it then keeps, its
   * time renewed); read and written in one step, so two turns at once cannot undo each other's rule.
   * Returns the model now remembered.
   */
  remember(id: string, label: string, keep: readonly string[] = [], now = Date.now()): string {
    const before = this.get(id, now);
    const stored = before !== undefined && keep.includes(before) ? before : label;
    this.set(id, stored, now);
    return stored;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Where the proxy keeps its conversations' models: this process's memory, or the cluster primary's
 * (server/cluster/conversations.ts), which never rejects: a store that cannot answer reports it and
 * answers as if the conversation were new.
 */
export interface ConversationStore {
  /** The conversation's model; undefined when it has none (new, forgotten, or the store did not answer). */
  get(id: string): Promise<string | undefined>;
  /** Makes `label` its model unless it has one of `keep`; resolves once stored, so the next turn sees it. */
  set(id: string, label: string, keep?: readonly string[]): Promise<void>;
}

/** A ConversationStore in this process (one server process, `--workers 1`, library use). */
export class LocalConversations implements ConversationStore {
  constructor(readonly memory: ConversationMemory) {}

  get(id: string): Promise<string | undefined> {
    return Promise.resolve(this.memory.get(id));
  }

  set(id: string, label: string, keep?: readonly string[]): Promise<void> {
    this.memory.remember(id, label, keep);
    return Promise.resolve();
  }
}

export interface StickyPolicy {
  /** Routing may move a conversation to a dearer model when a later turn needs one (failed gates always do). */
  upOnRoute: boolean;
  /** Routing may move a conversation to a cheaper model. */
  down: boolean;
}

/**
 * The label a later turn gets: the remembered one, unless the policy lets this turn's routing move it
 * (`rank` orders labels from cheapest to dearest).
 */
export function stickyLabel(routed: string, remembered: string | undefined, rank: (label: string) => number, policy: StickyPolicy): { label: string; sticky: boolean } {
  if (remembered === undefined || rank(remembered) < 0) return { label: routed, sticky: false };
  const up = rank(routed) > rank(remembered);
  const down = rank(routed) < rank(remembered);
  if ((up && policy.upOnRoute) || (down && policy.down)) return { label: routed, sticky: false };
  return { label: remembered, sticky: true };
}
