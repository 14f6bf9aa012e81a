/**
 * @module Fault group "provider": the first provider of a tier is ok / slow / 500 / junk / hang /
 * hang-mid-stream / refused, in front of a healthy fallback provider, for a plain and a streaming
 * request each. One row per case with what the caller (the real openai client) got.
 *
 *   npx tsx scripts/chaos/providers.ts
 */
import { refusedPort, startFakeOpenAI, type FakeOpenAI, type FakeReply } from "../../test/helpers/fake-openai.js";
import { chaosFixture, row, runIfMain, type ChaosServer } from "./server-fixture.js";
import type { ChaosGroup, ChaosRow } from "./types.js";

/** Short, so the matrix stays quick: the provider's wait for an answer (its first event when streaming) and a stream's idle limit. */
const PROVIDER_TIMEOUT_MS = 800;
const IDLE_TIMEOUT_MS = 800;

type Source = "primary" | "fallback";
interface Fault {
  name: string;
  /** The first provider's reply; none: its port refuses connections. */
  reply?: FakeReply;
  /** Who answers a plain request, and a streaming one ("idle" = the stream starts, then ends with an idle-timeout error event). */
  plain: Source;
  stream: Source | "idle";
}

const FAULTS: Fault[] = [
  { name: "ok", reply: { type: "content", content: "from primary" }, plain: "primary", stream: "primary" },
  { name: "slow (300 ms, within its timeout)", reply: { type: "content", content: "from primary", delayMs: 300 }, plain: "primary", stream: "primary" },
  { name: "500", reply: { type: "error", status: 500 }, plain: "fallback", stream: "fallback" },
  {
    name: "junk (HTML, status 200)",
    reply: { type: "raw", status: 200, contentType: "text/html", body: "<html><body>upstream proxy error</body></html>" },
    plain: "fallback",
    stream: "fallback",
  },
  { name: "hang", reply: { type: "hang" }, plain: "fallback", stream: "fallback" },
  // A plain request's timeout covers the whole answer, so a half-sent body fails over; a started stream cannot.
  { name: "hang-mid-stream", reply: { type: "stream", chunks: ["from ", "primary"], stallAfterChunks: 1 }, plain: "fallback", stream: "idle" },
  { name: "refused", plain: "fallback", stream: "fallback" },
];

const hello = [{ role: "user" as const, content: "what is the capital of Peru?" }];

export const providers: ChaosGroup = async () => {
  const fixture = await chaosFixture();
  const fakes: FakeOpenAI[] = [];
  try {
    const primary = await startFakeOpenAI();
    const fallback = await startFakeOpenAI({ handler: () => ({ type: "content", content: "from fallback" }) });
    fakes.push(primary, fallback);
    const rows: ChaosRow[] = [];
    for (const fault of FAULTS) {
      const baseURL = fault.reply ? primary.baseURL : `http://127.0.0.1:${await refusedPort()}/v1`;
      if (fault.reply) {
        const reply = fault.reply;
        primary.setHandler(() => reply);
      }
      for (const stream of [false, true]) {
        // A server per case: each starts with closed breakers and a full retry budget.
        const s = await fixture.serve({
          providers: [
            { name: "primary", baseURL, timeoutMs: PROVIDER_TIMEOUT_MS },
            { name: "fallback", baseURL: fallback.baseURL, timeoutMs: PROVIDER_TIMEOUT_MS },
          ],
          streamIdleTimeoutMs: IDLE_TIMEOUT_MS,
        });
        const expected = stream ? fault.stream : fault.plain;
        rows.push(await row("provider", `${fault.name}, ${stream ? "stream" : "plain"}`, describe(expected), () => (stream ? streamed(s, expected) : plain(s, expected))));
      }
    }
    return rows;
  } finally {
    await fixture.cleanup();
    for (const f of fakes) await f.close();
  }
};

function describe(expected: Source | "idle"): string {
  if (expected === "primary") return "200 from primary";
  if (expected === "fallback") return "fails over: 200 from fallback";
  return `stream starts, error event after ${IDLE_TIMEOUT_MS} ms idle, outcome row`;
}

async function plain(s: ChaosServer, expected: Source | "idle"): Promise<{ observed: string; pass: boolean }> {
  const { data, response } = await s.client.chat.completions.create({ model: "auto", messages: hello }).withResponse();
  const content = data.choices[0]?.message?.content ?? "";
  return { observed: `${response.status} "${content}"`, pass: response.status === 200 && content === `from ${expected}` };
}

async function streamed(s: ChaosServer, expected: Source | "idle"): Promise<{ observed: string; pass: boolean }> {
  const { data, response } = await s.client.chat.completions.create({ model: "auto", messages: hello, stream: true }).withResponse();
  let text = "";
  let error: Error | undefined;
  try {
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? "";
  } catch (err) {
    error = err as Error;
  }
  const observed = `${response.status} stream "${text}"${error ? `, then error: ${error.message}` : ""}`;
  if (expected !== "idle") return { observed, pass: response.status === 200 && !error && text === `from ${expected}` };
  // The stream was cut: its outcome row must say so.
  const requestId = response.headers.get("x-triage-request-id") ?? "";
  const note = await outcomeNote(s, requestId);
  const how = note === undefined ? "no outcome row" : `outcome row "${/stream [a-z-]+/.exec(note)?.[0] ?? note}"`;
  return { observed: `${observed}; ${how}`, pass: text === "from " && /sent nothing/.test(error?.message ?? "") && /stream idle-timeout/.test(note ?? "") };
}

/** The outcome note of a logged decision, once written (bounded wait). */
async function outcomeNote(s: ChaosServer, requestId: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const outcome = s.log.query({ requestId })[0]?.feedback.find((f) => f.kind === "outcome");
    if (outcome) return outcome.note ?? "";
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

await runIfMain(import.meta, providers);
