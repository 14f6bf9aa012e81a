/**
 * @module The outcome models' dial from the command line (`--quality` / `--max-cost`), shared by
 * `train --outcomes`, `route` and `eval-routing`; in its own file so `route` loads no training code.
 */
import { TriageError } from "../common/errors.js";
import { DEFAULT_DIAL, parseDialValue, type Dial } from "../outcomes/dial.js";

/** The dial given by --quality / --max-cost (at most one), else the default. */
export function dialFromFlags(quality: string | undefined, maxCost: string | undefined, fallback: Dial = DEFAULT_DIAL): Dial {
  if (quality !== undefined && maxCost !== undefined) throw new TriageError("give --quality or --max-cost, not both");
  if (quality !== undefined) return parseDialValue(quality, "quality", "--quality");
  if (maxCost !== undefined) return parseDialValue(maxCost, "maxCost", "--max-cost");
  return fallback;
}
