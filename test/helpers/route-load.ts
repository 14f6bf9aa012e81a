/**
 * @module Load from a process of its own: sends one /v1/route request per text to the given servers in
 * turn (request i to server i mod n), `lanes` at a time, and appends one line per 2xx answer to `out`:
 * `<ms since epoch> <server index> <request id>`, written as each answer arrives so a reader sees them
 * mid-load. The bearer key, if any, comes from ROUTE_LOAD_KEY. Refused or cut connections (a killed server) are counted, not retried. Prints one JSON
 * summary line on stdout. Run as `node --import tsx route-load.ts <out> <texts.json> <idPrefix> <lanes> <url>...`.
 */
import { appendFileSync, readFileSync } from "node:fs";

const [out, textsFile, idPrefix, lanesArg, ...urls] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsFile, "utf8")) as string[];
const lanes = Number(lanesArg);
const auth: Record<string, string> = process.env.ROUTE_LOAD_KEY ? { authorization: `Bearer ${process.env.ROUTE_LOAD_KEY}` } : {};
let next = 0;
let ok = 0;
let failed = 0;
/** Why requests failed: HTTP status or error code, with a count each. */
const reasons: Record<string, number> = {};
const fail = (why: string) => {
  failed++;
  reasons[why] = (reasons[why] ?? 0) + 1;
};

async function lane(): Promise<void> {
  for (let i = next++; i < texts.length; i = next++) {
    const server = i % urls.length;
    const id = `${idPrefix}-${i}`;
    try {
      const res = await fetch(`${urls[server]}/v1/route`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": id, ...auth },
        body: JSON.stringify({ text: texts[i] }),
      });
      await res.arrayBuffer();
      if (res.ok) {
        appendFileSync(out, `${Date.now()} ${server} ${id}\n`);
        ok++;
      } else fail(`HTTP ${res.status}`);
    } catch (err) {
      fail(((err as Error).cause as { code?: string } | undefined)?.code ?? (err as Error).message);
    }
  }
}

await Promise.all(Array.from({ length: lanes }, lane));
console.log(JSON.stringify({ ok, failed, reasons }));
