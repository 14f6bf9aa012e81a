/**
 * Pass-through of an upstream SSE stream. Bytes go out as they arrive; the events are parsed on the side
 * to read the usage (for cost). Upstream is always asked for usage; when the caller did not ask for it
 * (stream_options.include_usage), the usage-only chunk is dropped so the caller sees what it asked for.
 *
 * A stream that goes quiet for `idleTimeoutMs`, breaks upstream, or is ended by the server (shutdown)
 * gets an OpenAI-style error event and a clean end, so clients report an error instead of a silently
 * short answer; `ended` says how it finished either way.
 */
import type { ReadableStreamReadResult } from "node:stream/web";
import { readUsage, type Usage } from "./usage.js";

export type StreamOutcome = "done" | "error" | "idle-timeout" | "cancelled" | "shutdown";

export interface StreamEnd {
  /**
   * How the stream ended: "done" normally, "error" when upstream broke mid-stream, "idle-timeout" when
   * upstream sent nothing for too long, "cancelled" when the caller left, "shutdown" when the server ended it.
   */
  outcome: StreamOutcome;
  usage?: Usage;
  /** The upstream model field of the chunks. */
  model?: string;
  /** What went wrong, for the server side (decision log note); may name upstream details. */
  error?: string;
}

export interface SseOptions {
  dropUsageChunk: boolean;
  /** Longest wait for the next upstream bytes once the stream has started. */
  idleTimeoutMs: number;
}

export interface SsePassThrough {
  body: ReadableStream<Uint8Array>;
  ended: Promise<StreamEnd>;
  /** Ends the stream now with an error event (outcome "shutdown"); a no-op once it has ended. */
  end(message: string): void;
}

const EVENT_END = /\r?\n\r?\n/;
const IDLE = Symbol("idle");

/** An OpenAI-style error event: the `openai` client raises it as an APIError. */
export function errorEvent(message: string, code: string): string {
  return `data: ${JSON.stringify({ error: { message, type: "server_error", param: null, code } })}\n\n`;
}

export function passThroughSse(upstream: ReadableStream<Uint8Array>, options: SseOptions): SsePassThrough {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = "";
  let usage: Usage | undefined;
  let model: string | undefined;
  let finished = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  let settle: (end: StreamEnd) => void = () => {};
  const ended = new Promise<StreamEnd>((resolve) => (settle = resolve));

  /** Ends the stream once: settles the outcome, optionally sends an error event, closes, cancels upstream. */
  const finish = (end: Omit<StreamEnd, "usage" | "model">, event?: string): void => {
    if (finished) return;
    finished = true;
    settle({ ...end, usage, model });
    if (controllerRef) {
      try {
        if (event) controllerRef.enqueue(encoder.encode(event));
        controllerRef.close();
      } catch {
        // already closed or errored by the consumer side
      }
    }
    void reader.cancel().catch(() => {});
  };

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

  /** The next upstream read, or IDLE when nothing arrives in time. */
  const readWithin = async (): Promise<ReadableStreamReadResult<Uint8Array> | typeof IDLE> => {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<typeof IDLE>((resolve) => (timer = setTimeout(() => resolve(IDLE), options.idleTimeoutMs)));
    try {
      return await Promise.race([reader.read(), idle]);
    } finally {
      clearTimeout(timer);
    }
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
    },
    async pull(controller) {
      // Loop until something is sent: a pull that enqueues nothing is not called again by the stream.
      while (!finished) {
        let next: ReadableStreamReadResult<Uint8Array> | typeof IDLE;
        try {
          next = await readWithin();
        } catch (err) {
          finish({ outcome: "error", error: (err as Error).message }, errorEvent("the provider's stream broke off", "upstream_stream_error"));
          return;
        }
        if (finished) return; // ended (shutdown) while waiting
        if (next === IDLE) {
          const message = `the provider sent nothing for ${options.idleTimeoutMs} ms`;
          finish({ outcome: "idle-timeout", error: message }, errorEvent(`${message}; the stream was ended`, "stream_idle_timeout"));
          return;
        }
        if (next.done) {
          const rest = drain(true) + decoder.decode();
          // Without dropping, every byte was already sent as it came; the tail was only parsed.
          if (options.dropUsageChunk && rest !== "") controller.enqueue(encoder.encode(rest));
          finish({ outcome: "done" });
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
    cancel() {
      controllerRef = undefined; // the consumer is gone: nothing more can be sent
      finish({ outcome: "cancelled" });
    },
  });
  return { body, ended, end: (message) => finish({ outcome: "shutdown", error: message }, errorEvent(message, "server_shutting_down")) };
}
