import { describe, expect, it } from "vitest";
import { ConversationMemory, conversationOf, LocalConversations, stickyLabel } from "../../../src/server/proxy/conversations.js";

const rank = (l: string) => ["small", "medium", "large"].indexOf(l);
const keep = { upOnRoute: false, down: false };

describe("which conversation a chat request belongs to", () => {
  it("is the caller's header when it is a sane token, and then always a later turn", () => {
    expect(conversationOf("chat-42", [{ role: "user", content: "hi" }])).toEqual({ id: "chat-42", continuing: true });
  });

  it("else a hash of the system prompt and the first user message, the same on every later turn", () => {
    const first = conversationOf(undefined, [
      { role: "system", content: "be brief" },
      { role: "user", content: "what is 2+2?" },
    ]);
    const later = conversationOf("bad header with spaces", [
      { role: "system", content: "be brief" },
      { role: "user", content: "what is 2+2?" },
      { role: "assistant", content: "4" },
      { role: "user", content: "and 3+3?" },
    ]);
    expect(first!.continuing).toBe(false);
    expect(later!.continuing).toBe(true);
    expect(later!.id).toBe(first!.id);
    expect(first!.id).toMatch(/^h:[0-9a-f]{24}$/);
    const other = conversationOf(undefined, [
      { role: "system", content: "be verbose" },
      { role: "user", content: "what is 2+2?" },
    ]);
    expect(other!.id).not.toBe(first!.id);
  });
});

describe("the model a later turn gets", () => {
  it("is the remembered one, whichever way routing would have moved it", () => {
    expect(stickyLabel("large", "small", rank, keep)).toEqual({ label: "small", sticky: true });
    expect(stickyLabel("small", "large", rank, keep)).toEqual({ label: "large", sticky: true });
    expect(stickyLabel("medium", undefined, rank, keep)).toEqual({ label: "medium", sticky: false });
  });

  it("moves up on routing, or down, only when configured", () => {
    expect(stickyLabel("large", "small", rank, { upOnRoute: true, down: false })).toEqual({ label: "large", sticky: false });
    expect(stickyLabel("small", "large", rank, { upOnRoute: true, down: false })).toEqual({ label: "large", sticky: true });
    expect(stickyLabel("small", "large", rank, { upOnRoute: false, down: true })).toEqual({ label: "small", sticky: false });
  });

  it("ignores a remembered model the current router does not have (a reload replaced it)", () => {
    expect(stickyLabel("small", "gone", rank, keep)).toEqual({ label: "small", sticky: false });
  });
});

describe("ConversationMemory", () => {
  it("forgets a conversation ttl after its last turn, and the least recently active beyond its size", () => {
    const m = new ConversationMemory(1000, 2);
    m.set("a", "small", 0);
    expect(m.get("a", 999)).toBe("small");
    m.set("a", "small", 900); // a later turn keeps it alive
    expect(m.get("a", 1800)).toBe("small");
    expect(m.get("a", 1900)).toBeUndefined();
    m.set("x", "small", 0);
    m.set("y", "medium", 0);
    m.set("x", "small", 1); // x's next turn
    m.set("z", "large", 2);
    expect(m.size).toBe(2);
    expect(m.get("y", 3)).toBeUndefined();
    expect(m.get("x", 3)).toBe("small");
  });

  it("remembers a turn's model unless the conversation already has one of the models to keep, renewing its time", async () => {
    const m = new ConversationMemory(1000, 10);
    expect(m.remember("a", "large", [], 0)).toBe("large");
    expect(m.remember("a", "small", ["medium", "large"], 900)).toBe("large");
    expect(m.get("a", 1800)).toBe("large");
    expect(m.remember("a", "small", [], 1800)).toBe("small");
    // The same rule through the store the proxy uses in a single process.
    const store = new LocalConversations(new ConversationMemory(60_000, 10));
    await store.set("b", "medium");
    await store.set("b", "small", ["medium", "large"]);
    expect(await store.get("b")).toBe("medium");
  });
});
