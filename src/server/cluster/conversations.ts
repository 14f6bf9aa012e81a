/**
 * @module A worker's ConversationStore: the conversations' models live in the primary (one memory for the
 * whole server), so a conversation keeps its model whichever worker gets its next turn. A question the
 * primary does not answer within CONVERSATION_TIMEOUT_MS never fails the request: a lookup answers
 * "unknown" (the turn routes as a new conversation would), a store goes unacknowledged, and the trouble
 * is reported once until the primary answers again.
 */
import { TriageError } from "../../common/errors.js";
import type { ConversationMemory, ConversationStore } from "../proxy/conversations.js";
import type { PrimaryAsker } from "./ask.js";
import type { PrimaryMessage, WorkerMessage } from "./messages.js";

/** Short: every chat turn waits for its lookup, and the primary answers from memory in well under 1 ms. */
export const CONVERSATION_TIMEOUT_MS = 250;

/** The primary's answer to a worker's conversation question, from the server's one memory. */
export function answerConversation(memory: ConversationMemory, message: Extract<WorkerMessage, { triage: "conversation?" | "conversation=" }>): PrimaryMessage {
  const label = message.triage === "conversation?" ? memory.get(message.conversation) : memory.remember(message.conversation, message.label, message.keep);
  return { triage: "conversation", id: message.id, label };
}

export class ClusterConversations implements ConversationStore {
  private failing = false;

  constructor(
    private readonly asker: PrimaryAsker,
    private readonly onError: (error: Error) => void,
    private readonly timeoutMs = CONVERSATION_TIMEOUT_MS,
  ) {}

  async get(id: string): Promise<string | undefined> {
    return this.exchange("look up", (n) => ({ triage: "conversation?", id: n, conversation: id }));
  }

  async set(id: string, label: string, keep: readonly string[] = []): Promise<void> {
    await this.exchange("store", (n) => ({ triage: "conversation=", id: n, conversation: id, label, keep: [...keep] }));
  }

  private async exchange(what: string, message: Parameters<PrimaryAsker["ask"]>[0]): Promise<string | undefined> {
    try {
      const answer = await this.asker.ask(message, this.timeoutMs);
      if (answer.triage !== "conversation") throw new TriageError(`unexpected answer "${answer.triage}"`);
      this.failing = false;
      return answer.label;
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.onError(
          new TriageError(
            `conversations: cannot ${what} a conversation's model in the cluster primary (${(err as Error).message}); turns route as new conversations until it answers`,
          ),
        );
      }
      return undefined;
    }
  }
}
