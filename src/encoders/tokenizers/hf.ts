import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { TriageError } from "../../common/errors.js";

/** One text as model inputs: token ids and segment ids, already truncated. */
export interface EncodedText {
  ids: number[];
  typeIds: number[];
}

/**
 * A Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) loaded with @huggingface/tokenizers,
 * truncating to `maxLength` tokens. The JS tokenizer ignores the file's own truncation/padding
 * settings, so truncation is done here and padding is left to the batcher (pad to the longest).
 */
export class HfTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxLength: number,
    readonly padId: number,
    private readonly specialIds: ReadonlySet<number>,
  ) {}

  static load(dir: string, maxLength: number, missingHint = ""): HfTokenizer {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new TriageError(`maxLength must be an integer >= 2, got ${maxLength}`, "E_CONFIG");
    }
    const tokenizerPath = join(dir, "tokenizer.json");
    if (!existsSync(tokenizerPath)) {
      throw new TriageError(`tokenizer file not found: ${tokenizerPath}${missingHint}`, "E_MODEL_MISSING");
    }
    const tokenizerJson = readJson(tokenizerPath);
    const configPath = join(dir, "tokenizer_config.json");
    const config = existsSync(configPath) ? readJson(configPath) : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, config);
    } catch (err) {
      throw new TriageError(`cannot build a tokenizer from ${tokenizerPath}: ${(err as Error).message}`, "E_MODEL_INVALID");
    }
    const specialIds = new Set<number>();
    for (const [id, token] of tokenizer.get_added_tokens_decoder()) if (token.special) specialIds.add(id);
    return new HfTokenizer(tokenizer, maxLength, padIdOf(tokenizerJson, tokenizer), specialIds);
  }

  /** Token ids with the model's special tokens ([CLS] … [SEP]), cut to maxLength keeping the closing specials. */
  encode(text: string): EncodedText {
    const enc = this.tokenizer.encode(text, { return_token_type_ids: true });
    const ids = enc.ids;
    const typeIds = enc.token_type_ids ?? new Array<number>(ids.length).fill(0);
    if (ids.length <= this.maxLength) return { ids, typeIds };
    // Like HF truncation of a single sequence: drop content tokens, keep the post-processor's tail ([SEP]).
    let tail = 0;
    while (tail < ids.length && tail < this.maxLength - 1 && this.specialIds.has(ids[ids.length - 1 - tail])) tail++;
    const head = this.maxLength - tail;
    return {
      ids: [...ids.slice(0, head), ...ids.slice(ids.length - tail)],
      typeIds: [...typeIds.slice(0, head), ...typeIds.slice(typeIds.length - tail)],
    };
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}

function readJson(path: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Record<string, unknown>;
  } catch (err) {
    throw new TriageError(`cannot read ${path}: ${(err as Error).message}`, "E_MODEL_INVALID");
  }
}

/** The padding id the tokenizer file declares, else the id of [PAD], else 0 (BERT convention). */
function padIdOf(tokenizerJson: Record<string, unknown>, tokenizer: Tokenizer): number {
  const padding = tokenizerJson.padding;
  if (typeof padding === "object" && padding !== null && "pad_id" in padding && typeof padding.pad_id === "number") {
    return padding.pad_id;
  }
  return tokenizer.token_to_id("[PAD]") ?? 0;
}
