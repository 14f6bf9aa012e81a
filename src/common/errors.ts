/**
 * @module Shared helpers (common/), the lowest stage, importing nothing else of triage: the user-facing error (this
 * file), atomic writes that never destroy what triage did not write, hashing, seeded randomness, vectors,
 * latency statistics, classification metrics, JSONL/CSV/text files, query normalisation, the circuit
 * breaker.
 */

/** An error a user can act on: the message says what is wrong and where. CLI prints it without a stack. */
export class TriageError extends Error {
  constructor(
    message: string,
    readonly code: string = "E_TRIAGE",
  ) {
    super(message);
    this.name = "TriageError";
  }
}
