/**
 * @module
 * A logged decision's nearest training examples, as the deciding model saw them: the artifact that made
 * the decision is loaded (a registry keeps recent versions), the stored query embedded with the serving
 * encoder, and its HNSW index searched. The log stores no neighbours (they would triple its size), so
 * they are recomputed on demand; the two most recently used artifacts stay loaded.
 */
import { loadModel, type LoadedModel } from "../../model/load.js";
import type { DashboardModel } from "./context.js";
import { isOutcomeManifest, tierOnly } from "./model-kind.js";
import type { VersionCatalog } from "./versions.js";

export interface NearestExamples {
  /** Registry name of the version searched, and whether it is the one that made the decision. */
  version: string;
  exact: boolean;
  examples: Array<{ text: string; label: string; similarity: number }>;
  /** Below this nearest similarity the deciding model calls a query novel (low confidence). */
  minSimilarity: number | null;
}

const KEEP = 2;

export class Neighbours {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly model: DashboardModel,
    private readonly catalog: VersionCatalog,
  ) {}

  /** The `k` nearest examples of `text`, or a reason why they cannot be shown. */
  async nearest(text: string | null, modelVersion: string, k = 8): Promise<NearestExamples | { unavailable: string }> {
    if (text === null) return { unavailable: "the log keeps no query text (text mode hash or redact), so there is nothing to compare" };
    const known = this.catalog.get();
    const deciding = known.byModelVersion.get(modelVersion);
    const target = deciding ?? known.versions.find((v) => v.current && v.manifest);
    if (!target?.manifest) return { unavailable: "no readable model version to search" };
    if (isOutcomeManifest(target.manifest)) return { unavailable: tierOnly("Nearest training examples") + ", and it keeps no training texts" };
    const encoder = await this.model.encoder();
    if (encoder.fingerprint !== target.manifest.encoder.fingerprint)
      return { unavailable: `version ${target.name} was trained with another encoder (${target.manifest.encoder.id}) than the one serving now` };
    const loaded = await this.load(target.dir);
    const [vector] = await encoder.embed([text]);
    const hits = loaded.parts.index.search(vector, k);
    return {
      version: target.name,
      exact: deciding !== undefined,
      examples: hits.map((h) => ({ text: loaded.examples[h.id]?.text ?? "?", label: loaded.examples[h.id]?.label ?? "?", similarity: h.similarity })),
      minSimilarity: target.manifest.calibration.minSimilarity ?? null,
    };
  }

  private load(dir: string): Promise<LoadedModel> {
    let p = this.loaded.get(dir);
    if (p) {
      this.loaded.delete(dir);
      this.loaded.set(dir, p); // most recent last
      return p;
    }
    p = loadModel(dir, { onWarning: () => {} });
    p.catch(() => this.loaded.delete(dir));
    this.loaded.set(dir, p);
    while (this.loaded.size > KEEP) this.loaded.delete(this.loaded.keys().next().value as string);
    return p;
  }
}
