/**
 * @module The fault matrix: runs every group of faults (providers, bad bodies, kill -9, corrupt artifacts)
 * against servers on 127.0.0.1 and prints one table. Each group is bounded and cleans up after itself.
 *   npm run chaos [-- group ...]     e.g. npm run chaos -- provider body
 */
import { artifacts } from "./chaos/artifacts.js";
import { bodies } from "./chaos/bodies.js";
import { kill } from "./chaos/kill.js";
import { providers } from "./chaos/providers.js";
import type { ChaosGroup, ChaosRow } from "./chaos/types.js";

const GROUPS: Record<string, ChaosGroup> = { provider: providers, body: bodies, kill, artifact: artifacts };

function table(rows: ChaosRow[]): string {
  const head = ["group", "fault", "expected", "observed", "result"];
  const cells = rows.map((r) => [r.group, r.fault, r.expected, r.observed, r.pass ? "pass" : "FAIL"]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((g) => !(g in GROUPS));
if (unknown.length > 0) {
  console.error(`chaos: unknown group ${unknown.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")}`);
  process.exit(2);
}
const rows: ChaosRow[] = [];
for (const [name, group] of Object.entries(GROUPS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stderr.write(`chaos: ${name} ...\n`);
  try {
    rows.push(...(await group()));
  } catch (err) {
    rows.push({ group: name, fault: "(group crashed)", expected: "runs", observed: (err as Error).message, pass: false });
  }
}
console.log(table(rows));
const failed = rows.filter((r) => !r.pass).length;
console.log(`\n${rows.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
