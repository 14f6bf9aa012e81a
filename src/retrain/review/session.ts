import { OUT_OF_SCOPE } from "./feedback.js";
import type { ReviewItem } from "./queue.js";

/** The key for "none of these labels fits": stored as the label `out-of-scope`. */
export const OUT_OF_SCOPE_KEY = "o";
/** Keys that are commands, so never used for a label. */
const COMMAND_KEYS = new Set(["s", "u", "q", OUT_OF_SCOPE_KEY]);
const LABEL_KEYS = "123456789abcdefghijklmnoprtvwxyz".split("").filter((k) => !COMMAND_KEYS.has(k));

export type ReviewEvent =
  | { type: "labelled"; item: ReviewItem; label: string }
  | { type: "skipped"; item: ReviewItem }
  | { type: "undone"; item: ReviewItem; label: string | null }
  | { type: "nothing-to-undo" }
  | { type: "unknown-key"; key: string }
  | { type: "quit" }
  | { type: "done" };

/** Where labels go: write returns an id that remove() can take back (undo). */
export interface LabelStore {
  write(requestId: string, label: string): number;
  remove(id: number): void;
}

/**
 * The review loop without the terminal: one key per label, o = out of scope (none fits), s = skip,
 * u = undo (also a skip), q = quit.
 * Labels are stored immediately (a crash loses nothing); undo deletes the stored label and shows the item again.
 */
export class ReviewSession {
  readonly keys: ReadonlyMap<string, string>;
  private index = 0;
  private readonly history: { index: number; label: string | null; id: number | null }[] = [];
  labelled = 0;
  skipped = 0;

  constructor(
    private readonly items: readonly ReviewItem[],
    labels: readonly string[],
    private readonly store: LabelStore,
  ) {
    if (labels.length > LABEL_KEYS.length)
      throw new Error(`review: ${labels.length} labels, but only ${LABEL_KEYS.length} keys; use --list --json and label with \`triage feedback\``);
    // A model with its own out-of-scope label gets it from its number key like any other label.
    this.keys = new Map([
      ...labels.map((l, i): [string, string] => [LABEL_KEYS[i], l]),
      ...(labels.includes(OUT_OF_SCOPE) ? [] : [[OUT_OF_SCOPE_KEY, OUT_OF_SCOPE] as [string, string]]),
    ]);
  }

  get current(): ReviewItem | undefined {
    return this.items[this.index];
  }

  get position(): { at: number; of: number } {
    return { at: this.index, of: this.items.length };
  }

  press(key: string): ReviewEvent {
    if (key === "q") return { type: "quit" };
    if (key === "u") {
      const last = this.history.pop();
      if (!last) return { type: "nothing-to-undo" };
      if (last.id !== null) {
        this.store.remove(last.id);
        this.labelled--;
      } else this.skipped--;
      this.index = last.index;
      return { type: "undone", item: this.items[last.index], label: last.label };
    }
    const item = this.current;
    if (!item) return { type: "done" };
    if (key === "s") {
      this.history.push({ index: this.index, label: null, id: null });
      this.skipped++;
      this.index++;
      return { type: "skipped", item };
    }
    const label = this.keys.get(key);
    if (label === undefined) return { type: "unknown-key", key };
    const id = this.store.write(item.requestId, label);
    this.history.push({ index: this.index, label, id });
    this.labelled++;
    this.index++;
    return { type: "labelled", item, label };
  }
}
