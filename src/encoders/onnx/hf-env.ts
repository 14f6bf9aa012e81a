/**
 * @module encoders/hf-env
 * Scoped settings for @huggingface/transformers. The library reads where to fetch from, whether
 * it may touch the network and where its cache lives from one global `env` object; triage sets
 * those fields for the span of one load or pull, then puts the previous values back, so a pull
 * (remote allowed) and an encoder load (remote refused) in one process never see each other's
 * settings. Spans run one at a time because the object is shared.
 */
import type { env } from "@huggingface/transformers";
import { TriageError } from "../../common/errors.js";

type TransformersEnvironment = typeof env;

/** The `env` fields triage sets. */
export type HubSettings = Partial<
  Pick<TransformersEnvironment, "allowRemoteModels" | "allowLocalModels" | "remoteHost" | "remotePathTemplate" | "useCustomCache" | "customCache" | "fetch">
>;

type Library = typeof import("@huggingface/transformers");

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with the library imported and `settings` applied to its `env`, restoring the previous
 * values afterwards (also on failure). Imported on first use: the library takes ~150 ms to load,
 * which commands that never embed should not pay.
 */
export async function withHubEnv<T>(settings: HubSettings, fn: (lib: Library) => Promise<T>): Promise<T> {
  const run = async () => {
    const lib = await importLibrary();
    const env = lib.env as unknown as Record<string, unknown>;
    const saved = new Map<string, unknown>();
    for (const [key, value] of Object.entries(settings)) {
      saved.set(key, env[key]);
      env[key] = value;
    }
    try {
      return await fn(lib);
    } finally {
      for (const [key, value] of saved) env[key] = value;
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

/**
 * The library is an optional peer dependency: only `model pull` and the pipeline cross-check use it, and
 * with the runtime and image library it brings it would add ~180 MB to every install.
 */
export async function importLibrary(): Promise<Library> {
  try {
    return await import("@huggingface/transformers");
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String(err).includes(LIBRARY))
      throw new TriageError(`${LIBRARY} is not installed; it downloads models, and triage leaves it out of its own install: npm install ${LIBRARY}@^4`, "E_DEPENDENCY");
    throw err;
  }
}

const LIBRARY = "@huggingface/transformers";

/** A fetch that refuses: with it in place a load that tried the network fails loudly instead of downloading. */
export const refuseNetwork = async (input: string | URL): Promise<never> => {
  throw new Error(`network access refused while loading a local model (${String(input)})`);
};
