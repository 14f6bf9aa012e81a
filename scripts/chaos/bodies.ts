/**
 * @module Fault group "body": bad request bodies from a caller (deep nesting, wrong content types,
 * wrong types, invalid JSON, oversize), each answered with the caller's 4xx; then the provider's
 * circuit breaker must still be closed and a valid request served by it.
 *
 *   npx tsx scripts/chaos/bodies.ts
 */
import { startFakeOpenAI } from "../../test/helpers/fake-openai.js";
import { chaosFixture, row, runIfMain } from "./server-fixture.js";
import type { ChaosGroup, ChaosRow } from "./types.js";

interface BadBody {
  fault: string;
  path: "/v1/route" | "/v1/chat/completions";
  body: string;
  /** undefined: no content-type header. */
  contentType?: string;
  /** Sent this many times (a caller repeating it to trip the breaker). */
  times?: number;
  status: number;
  code: string;
}

const chat = (extra: string) => `{"model":"auto","messages":[{"role":"user","content":"hello there"${extra}}]}`;
const DEPTH = 6000;
const JSON_TYPE = "application/json";

const BAD_BODIES: BadBody[] = [
  {
    fault: `chat body nested ${DEPTH} levels deep (x10)`,
    path: "/v1/chat/completions",
    body: chat(`,"x":${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`),
    contentType: JSON_TYPE,
    times: 10,
    status: 400,
    code: "json_too_deep",
  },
  { fault: "chat body as text/plain", path: "/v1/chat/completions", body: chat(""), contentType: "text/plain;charset=UTF-8", status: 415, code: "unsupported_media_type" },
  { fault: "route body as a form post", path: "/v1/route", body: "text=hello", contentType: "application/x-www-form-urlencoded", status: 415, code: "unsupported_media_type" },
  { fault: "route body without a content type", path: "/v1/route", body: '{"text":"hello"}', status: 415, code: "unsupported_media_type" },
  { fault: '"text": 42', path: "/v1/route", body: '{"text":42}', contentType: JSON_TYPE, status: 400, code: "invalid_type" },
  {
    fault: '"content": 42',
    path: "/v1/chat/completions",
    body: '{"model":"auto","messages":[{"role":"user","content":42}]}',
    contentType: JSON_TYPE,
    status: 400,
    code: "invalid_type",
  },
  { fault: "messages missing", path: "/v1/chat/completions", body: '{"model":"auto"}', contentType: JSON_TYPE, status: 400, code: "missing_required_parameter" },
  { fault: "invalid JSON", path: "/v1/chat/completions", body: '{"model":"auto","messages":[', contentType: JSON_TYPE, status: 400, code: "invalid_json" },
  { fault: "empty body", path: "/v1/chat/completions", body: "", contentType: JSON_TYPE, status: 400, code: "invalid_json" },
  {
    fault: "oversize chat body (1.2 MB, limit 1 MB)",
    path: "/v1/chat/completions",
    body: chat(`,"pad":"${"x".repeat(1_200_000)}"`),
    contentType: JSON_TYPE,
    status: 413,
    code: "request_too_large",
  },
];

export const bodies: ChaosGroup = async () => {
  const fixture = await chaosFixture();
  const primary = await startFakeOpenAI({ handler: () => ({ type: "content", content: "from primary" }) });
  try {
    // Default breaker: opens after 5 failures in a row; the deep body alone is sent 10 times.
    const s = await fixture.serve({ providers: [{ name: "primary", baseURL: primary.baseURL }] });
    const rows: ChaosRow[] = [];
    for (const bad of BAD_BODIES) {
      rows.push(
        await row("body", bad.fault, `${bad.status} ${bad.code}`, async () => {
          const seen: string[] = [];
          for (let i = 0; i < (bad.times ?? 1); i++) {
            const res = await fetch(`${s.url}${bad.path}`, {
              method: "POST",
              body: new TextEncoder().encode(bad.body),
              headers: bad.contentType ? { "content-type": bad.contentType } : {},
              signal: AbortSignal.timeout(10_000),
            });
            const code = ((await res.json()) as { error?: { code?: string } }).error?.code ?? "(no error code)";
            seen.push(`${res.status} ${code}`);
          }
          const distinct = [...new Set(seen)];
          return { observed: distinct.join(", ") + (seen.length > 1 ? ` (x${seen.length})` : ""), pass: distinct.length === 1 && distinct[0] === `${bad.status} ${bad.code}` };
        }),
      );
    }
    rows.push(
      await row("body", "after all of the above: breaker, next valid request", "breaker closed (healthy), 200 from primary, which saw no bad body", async () => {
        const health = (await (await fetch(`${s.url}/healthz`)).json()) as { providers: Record<string, string> };
        const answer = await s.client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hello there" }] });
        const content = answer.choices[0]?.message?.content ?? "";
        const reached = primary.chatRequests().length;
        return {
          observed: `breaker ${health.providers.primary}, 200 "${content}", primary saw ${reached} request(s)`,
          pass: health.providers.primary === "healthy" && content === "from primary" && reached === 1,
        };
      }),
    );
    return rows;
  } finally {
    await fixture.cleanup();
    await primary.close();
  }
};

await runIfMain(import.meta, bodies);
