/**
 * @module Opening whichever kind of model a directory holds: a tier model (Router) or an outcome model
 * (OutcomeRouter). `route`, `serve` and the proxy go through here, so both work behind the same commands.
 */
import { Router, type RouterOptions } from "../router/router.js";
import type { Dial } from "../router/types.js";
import { isOutcomeArtifact } from "./artifact.js";
import { OutcomeRouter } from "./served.js";

/** A loaded model of either kind; both route with `classify` and name what to call in the decision's label. */
export type AnyRouter = Router | OutcomeRouter;

export interface OpenRouterOptions extends RouterOptions {
  /** Outcome models: the deployment's dial setting (tier models ignore it). */
  dial?: Dial;
}

/** Loads `dir` (an artifact or a registry) as a tier Router or an OutcomeRouter, by what its manifest says it is. */
export async function openRouter(dir: string, options: OpenRouterOptions = {}): Promise<AnyRouter> {
  if (!isOutcomeArtifact(dir)) {
    const { dial: _dial, ...rest } = options;
    return Router.load(dir, rest);
  }
  const { encoder, sink, dial, maxChars, threads, cacheSize, watch, onReload, onError, onWarning } = options;
  return OutcomeRouter.load(dir, { encoder, sink, dial, maxChars, threads, cacheSize, watch, onReload, onError, onWarning });
}
