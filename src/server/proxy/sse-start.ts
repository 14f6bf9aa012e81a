/**
 * @module The start of an upstream stream, checked before the caller is told `200 text/event-stream`:
 * the content type is an event stream and its first data event parses as a chat completion chunk.
 * Anything else (an HTML page, a JSON error with status 200, an error event) is the provider's failure,
 * and the request fails over exactly as a non-streaming one would.
 */

/** Reading stops here: a first event this large is not a chat chunk. */
const MAX_START_BYTES = 64 * 1024;

export type StreamStart = { ok: true; stream: ReadableStream<Uint8Array> } | { ok: false; problem: string };

/**
 * Reads up to the first data event. On success the returned stream replays the bytes read so far, then
 * the rest of the upstream body; cancelling it cancels upstream. On failure upstream is cancelled.
 */
export async function checkStreamStart(contentType: string | null, body: ReadableStream<Uint8Array> | null): Promise<StreamStart> {
  if (!body) return { ok: false, problem: "sent no stream body" };
  if (!/^text\/event-stream\s*(;|$)/i.test(contentType ?? "")) {
    await body.cancel().catch(() => {});
    return { ok: false, problem: `answered ${contentType ? `"${contentType.slice(0, 80)}"` : "no content type"} instead of an event stream` };
  }
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const read: Uint8Array[] = [];
  let text = "";
  let bytes = 0;
  const fail = async (problem: string): Promise<StreamStart> => {
    await reader.cancel().catch(() => {});
    return { ok: false, problem };
  };
  for (;;) {
    const verdict = firstDataVerdict(text);
    if (verdict === "chunk") return { ok: true, stream: replay(read, reader) };
    if (verdict !== undefined) return fail(verdict);
    if (bytes > MAX_START_BYTES) return fail(`sent ${bytes} bytes without a complete first event`);
    const next = await reader.read();
    if (next.done) return fail(text.trim() === "" ? "closed the stream before any data" : "closed the stream before a complete first event");
    read.push(next.value);
    bytes += next.value.byteLength;
    text += decoder.decode(next.value, { stream: true });
  }
}

/**
 * Judges the first complete event with data in `text`: "chunk" when it is a chat completion chunk, a
 * problem description when it is not, undefined when no such event is complete yet. Comment-only
 * events (`: keep-alive`, as OpenRouter sends while it waits) are skipped.
 */
export function firstDataVerdict(text: string): "chunk" | string | undefined {
  const events = text.split(/\r?\n\r?\n/);
  events.pop(); // the part after the last blank line is not complete yet
  for (const event of events) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""))
      .join("\n");
    if (data === "") continue;
    if (data.trim() === "[DONE]") return "ended the stream before any chunk";
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return "sent a first event that is not JSON";
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "sent a first event that is not a JSON object";
    if ("error" in parsed) return "sent an error event instead of a chunk";
    if (!Array.isArray((parsed as { choices?: unknown }).choices)) return "sent a first event that is not a chat completion chunk";
    return "chunk";
  }
  return undefined;
}

/** The chunks already read, then the rest of the upstream body. */
function replay(read: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of read) controller.enqueue(chunk);
    },
    async pull(controller) {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
