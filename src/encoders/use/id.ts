/** The npm-shipped USE-Lite encoder's id, kept apart from use.ts so checking it does not load onnxruntime and the weights. */
export const USE_ENCODER_ID = "use-lite-512";
