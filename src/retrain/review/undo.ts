import Database from "better-sqlite3";
import { TriageError } from "../../common/errors.js";

/** Deletes one feedback row by id (review's undo); the DecisionLog API only appends. */
export function deleteFeedback(logPath: string, id: number): void {
  const db = new Database(logPath);
  try {
    db.pragma("busy_timeout = 1000");
    const changes = db.prepare("DELETE FROM feedback WHERE id = ?").run(id).changes;
    if (changes !== 1) throw new TriageError(`${logPath}: feedback ${id} not found, cannot undo it`);
  } finally {
    db.close();
  }
}
