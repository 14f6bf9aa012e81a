export { retrain, DEFAULT_MIN_HELD_OUT, type RetrainOptions, type RetrainReport, type RetrainMetric, type ModelMetrics } from "./retrain.js";
export { buildTrainingSet, TRUST, type Source, type Provenance, type TrainingSet, type TrainingSetOptions } from "./dataset.js";
export { ModelRegistry, isRegistry, resolveModelDir, parsePointer, type Pointer, type RegistryVersion } from "../model/registry.js";
export { trainIntoRegistry } from "./publish.js";
export { adoptArtifact, openRegistry, isPlainArtifact, type Adoption } from "./adopt.js";
