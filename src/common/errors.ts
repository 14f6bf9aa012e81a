/** An error a user can act on: the message says what is wrong and where. CLI prints it without a stack. */
export class TriageError extends Error {
  constructor(message: string, readonly code: string = "E_TRIAGE") {
    super(message);
    this.name = "TriageError";
  }
}
