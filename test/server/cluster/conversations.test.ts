// A worker's conversation store, over the real question/answer plumbing a worker uses with its primary
// (PrimaryAsker) and the primary's real answers from one ConversationMemory; only the IPC channel is a
// function here. The cluster as processes is tested in test/server/cluster.test.ts.
import { describe, expect, it } from "vitest";
import { PrimaryAsker, type SendToPrimary } from "../../../src/server/cluster/ask.js";
import { answerConversation, ClusterConversations } from "../../../src/server/cluster/conversations.js";
import type { WorkerMessage } from "../../../src/server/cluster/messages.js";
import { ConversationMemory } from "../../../src/server/proxy/conversations.js";

/** A channel to a primary that answers from `memory` while `answering` says so, and drops the question otherwise. */
function primary(memory: ConversationMemory) {
  const state = { answering: true };
  let asker: PrimaryAsker | undefined;
  const send: SendToPrimary = (message: WorkerMessage, done) => {
    done(null);
    if (!state.answering || (message.triage !== "conversation?" && message.triage !== "conversation=")) return;
    const answer = answerConversation(memory, message);
    setImmediate(() => asker!.answer(answer));
  };
  asker = new PrimaryAsker(send);
  return { asker, state };
}

describe("a worker's conversations, kept in the primary", () => {
  it("two workers share one memory: what one stores the other reads, and a dearer model is kept", async () => {
    const memory = new ConversationMemory(60_000, 100);
    const errors: Error[] = [];
    const a = new ClusterConversations(primary(memory).asker, (e) => errors.push(e));
    const b = new ClusterConversations(primary(memory).asker, (e) => errors.push(e));
    expect(await a.get("c1")).toBeUndefined();
    await a.set("c1", "small", ["medium", "large"]);
    expect(await b.get("c1")).toBe("small");
    await b.set("c1", "large");
    await a.set("c1", "small", ["medium", "large"]); // not moved down
    expect(await b.get("c1")).toBe("large");
    expect(errors).toEqual([]);
  });

  it("a primary that does not answer: lookups say unknown, stores resolve, nothing throws, and it is reported once", async () => {
    const memory = new ConversationMemory(60_000, 100);
    const channel = primary(memory);
    const errors: Error[] = [];
    const store = new ClusterConversations(channel.asker, (e) => errors.push(e), 50);
    await store.set("c1", "large");
    channel.state.answering = false;
    const results = await Promise.all([store.get("c1"), store.get("c1"), store.set("c1", "small")]);
    expect(results).toEqual([undefined, undefined, undefined]);
    expect(await store.get("c1")).toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual([
      "conversations: cannot look up a conversation's model in the cluster primary (the cluster primary did not answer within 50 ms); turns route as new conversations until it answers",
    ]);
    // Answering again: the stored model is back (the silent store changed nothing), and a later outage is reported anew.
    channel.state.answering = true;
    expect(await store.get("c1")).toBe("large");
    channel.state.answering = false;
    await store.set("c1", "small");
    expect(errors).toHaveLength(2);
    expect(errors[1].message).toContain("cannot store a conversation's model");
  });

  it("a closed channel to the primary answers unknown at once, reported", async () => {
    const errors: Error[] = [];
    const store = new ClusterConversations(new PrimaryAsker((_m, done) => done(new Error("the IPC channel is closed"))), (e) => errors.push(e));
    expect(await store.get("c1")).toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual([
      "conversations: cannot look up a conversation's model in the cluster primary (cannot reach the cluster primary: the IPC channel is closed); turns route as new conversations until it answers",
    ]);
  });
});
