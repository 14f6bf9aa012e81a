import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** One fingerprint over several files, in the given order (names included, so a swap changes it). */
export function sha256Files(paths: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of paths) {
    h.update(p.split("/").pop() ?? p);
    h.update(readFileSync(p));
  }
  return h.digest("hex");
}
