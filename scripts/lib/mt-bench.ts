/**
 * @module MT-Bench's two-turn questions and RouteLLM's GPT-4 judgements of Mixtral-8x7B's and GPT-4's
 * answers (`../shared/datasets/routellm/mt_bench`), as the stickiness and parallel-pattern scripts read them.
 */
import { join } from "node:path";
import { readJsonlFile } from "../../src/common/jsonl.js";
import { sharedPath } from "../../src/common/shared.js";

export const MIXTRAL = "mistralai/Mixtral-8x7B-Instruct-v0.1";
export const GPT4 = "gpt-4-1106-preview";

export interface Question {
  question_id: number;
  category: string;
  turns: string[];
}

export interface Judgement {
  question_id: number;
  model: string;
  turn: number;
  score: number;
  user_prompt: string;
}

export interface MtBench {
  questions: Question[];
  judgements: Judgement[];
  /** The judgement of `model`'s answer to turn `turn` of question `q`. */
  judged(q: number, model: string, turn: number): Judgement | undefined;
}

/** The questions and judgements; when the shared folder is absent, says so in one line and exits (a skip, not a failure). */
export function loadMtBench(script: string): MtBench {
  const dir = sharedPath("datasets", "routellm", "mt_bench");
  if (dir.path === null) {
    console.log(`${script}: skipped: ${dir.missing}`);
    process.exit(0);
  }
  const questions = readJsonlFile(join(dir.path, "question.jsonl")) as unknown as Question[];
  const judgements = readJsonlFile(join(dir.path, "judgements.jsonl")) as unknown as Judgement[];
  const judged = (q: number, model: string, turn: number) => judgements.find((j) => j.question_id === q && j.model === model && j.turn === turn);
  return { questions, judgements, judged };
}

/**
 * The assistant's answer in a judge prompt: between "[The Start of Assistant's Answer]" and its end marker
 * (single-turn prompts), else the last "### Assistant A:" turn (multi-turn prompts).
 */
export function answerIn(j: Judgement | undefined): string {
  if (!j) return "";
  const single = /\[The Start of Assistant's Answer\]\n([\s\S]*?)\n\[The End of Assistant's Answer\]/.exec(j.user_prompt);
  if (single) return single[1].trim();
  const parts = j.user_prompt.split("### Assistant A:");
  return (parts[parts.length - 1] ?? "").split(/<\|The End of Assistant A's Conversation|### User:/)[0].trim();
}
