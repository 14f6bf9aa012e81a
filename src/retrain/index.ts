/**
 * @module The learning loop (retrain/): training sets from the base data and the log's labels by trust, a candidate
 * trained into the registry and measured against the current model on held-out data, promotion or not, and
 * active labelling (review/).
 */
export { retrain, DEFAULT_MIN_HELD_OUT, type RetrainOptions, type RetrainReport, type RetrainMetric, type ModelMetrics } from "./retrain.js";
export { buildTrainingSet, TRUST, type Source, type Provenance, type TrainingSet, type TrainingSetOptions } from "./dataset.js";
export { ModelRegistry, isRegistry, resolveModelDir, parsePointer, type Pointer, type RegistryVersion } from "../model/registry.js";
export { trainIntoRegistry } from "./publish.js";
export { adoptArtifact, openRegistry, isPlainArtifact, type Adoption } from "../model/adopt.js";
