// The fake server is shared with other test suites: check it speaks OpenAI's wire format to the real client.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAI } from "./fake-openai.js";

let fake: FakeOpenAI;
let client: OpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.baseURL, apiKey: "k", maxRetries: 0, timeout: 2000 });
});
afterAll(async () => {
  await fake.close();
});

describe("fake OpenAI server", () => {
  it("streams SSE chunks with usage in the final chunk", async () => {
    fake.enqueue({ type: "stream", chunks: ["Hel", "lo", "!"], usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello!");
    expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });

  it("streams a plain content reply when the request asks for a stream", async () => {
    fake.enqueue({ type: "content", content: "whole answer" });
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("whole answer");
  });

  it("can die mid-stream", async () => {
    fake.enqueue({ type: "stream", chunks: ["a", "b", "c"], cutAfterChunks: 1 });
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], stream: true });
    const read = async () => {
      for await (const chunk of stream) void chunk;
    };
    await expect(read()).rejects.toThrow();
  });

  it("records requests and answers unknown paths with 404", async () => {
    const before = fake.requests.length;
    await expect(client.models.list()).rejects.toMatchObject({ status: 404 });
    expect(fake.requests[before]).toMatchObject({ method: "GET", path: "/v1/models" });
  });

  it("checks the API key when asked to", async () => {
    const guarded = await startFakeOpenAI({ apiKey: "right" });
    const wrong = new OpenAI({ baseURL: guarded.baseURL, apiKey: "wrong", maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({
      status: 401,
    });
    await guarded.close();
  });
});
