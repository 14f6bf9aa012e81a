/** @module Objects without their undefined fields: what is written to JSON or a record says only what was set. */

/** A copy of `o` without the fields whose value is undefined. */
export function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
