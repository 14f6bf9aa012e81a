/**
 * @module Load for POST /v1/route from autocannon, with distinct real texts (data/tiers/test.jsonl, numbered
 * so that none repeats and the router's exact-repeat cache never answers), shared by the load scripts.
 */
import autocannon from "autocannon";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A load function over `base`'s /v1/route for `duration` seconds; one counter across all its runs. */
export function distinctRouteLoad(root: string): (base: string, connections: number, duration: number) => Promise<autocannon.Result> {
  const texts = readFileSync(join(root, "data/tiers/test.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  let sent = 0;
  return (base, connections, duration) =>
    autocannon({
      url: `${base}/v1/route`,
      connections,
      duration,
      timeout: 120,
      requests: [
        {
          method: "POST" as const,
          headers: { "content-type": "application/json" },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ text: `${texts[sent % texts.length]} (${sent++})` }) }),
        },
      ],
    });
}
