/**
 * Pass-through of an upstream SSE stream. Bytes go out as they arrive; the events are parsed on the side
 * to read the usage (for cost). Upstream is always asked for usage; when the caller did not ask for it
 * (stream_options.include_usage), the usage-only chunk is dropped so the caller sees what it asked for.
 */
import type { ReadableStreamReadResult } from "node:stream/web";
import { readUsage, type Usage } from "./cost.js";

export interface StreamEnd {
  /** How the stream ended: "done" normally, "error" when upstream broke mid-stream, "cancelled" when the caller left. */
  outcome: "done" | "error" | "cancelled";
  usage?: Usage;
  /** The upstream model field of the chunks. */
  model?: string;
  error?: string;
}

const EVENT_END = /\r?\n\r?\n/;

export function passThroughSse(upstream: ReadableStream<Uint8Array>, options: { dropUsageChunk: boolean }): { body: ReadableStream<Uint8Array>; ended: Promise<StreamEnd> } {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = "";
  let usage: Usage | undefined;
  let model: string | undefined;
  let settle: (end: StreamEnd) => void = () => {};
  const ended = new Promise<StreamEnd>((resolve) => {
    let settled = false;
    settle = (end) => {
      if (settled) return;
      settled = true;
      resolve(end);
    };
  });

  /** Returns false when the event is the usage-only chunk the caller did not ask for. */
  const inspect = (event: string): boolean => {
    for (const line of event.split(/\r?\n/)) {
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "" || data === "[DONE]") continue;
      let parsed: { usage?: unknown; choices?: unknown; model?: unknown };
      try {
        parsed = JSON.parse(data) as typeof parsed;
      } catch {
        continue; // not ours to judge: forwarded verbatim
      }
      if (typeof parsed.model === "string") model = parsed.model;
      const u = readUsage(parsed.usage);
      if (u) usage = u;
      if (u && options.dropUsageChunk && Array.isArray(parsed.choices) && parsed.choices.length === 0) return false;
    }
    return true;
  };

  /** Splits complete events off the buffer; returns the text to send on. */
  const drain = (final: boolean): string => {
    let out = "";
    for (;;) {
      const m = EVENT_END.exec(buffer);
      if (!m) break;
      const event = buffer.slice(0, m.index);
      const raw = buffer.slice(0, m.index + m[0].length);
      buffer = buffer.slice(m.index + m[0].length);
      if (inspect(event)) out += raw;
    }
    if (final && buffer !== "") {
      if (inspect(buffer)) out += buffer;
      buffer = "";
    }
    return out;
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Loop until something is sent: a pull that enqueues nothing is not called again by the stream.
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          settle({ outcome: "error", usage, model, error: (err as Error).message });
          controller.error(err);
          return;
        }
        if (next.done) {
          const rest = drain(true) + decoder.decode();
          if (rest !== "") controller.enqueue(encoder.encode(rest));
          controller.close();
          settle({ outcome: "done", usage, model });
          return;
        }
        buffer += decoder.decode(next.value, { stream: true });
        if (!options.dropUsageChunk) {
          // Nothing to drop: send the bytes exactly as they came, parse on the side.
          controller.enqueue(next.value);
          drain(false);
          return;
        }
        const out = drain(false);
        if (out !== "") {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    async cancel(reason) {
      settle({ outcome: "cancelled", usage, model });
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { body, ended };
}
