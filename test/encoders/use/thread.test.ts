import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UseEncoder } from "../../../src/encoders/use/encoder.js";
import { tempDir } from "../../helpers/temp.js";

const texts = [
  "how many grams in an ounce?",
  "a",
  "Synthesize the research on four-day work weeks and recommend a policy for a 200-person company, weighing productivity, retention and cost.",
  "éèà über naïve café 🙂",
];
const long = Array.from({ length: 32 }, (_, i) => `${"Compare the trade-offs of event sourcing and CRUD for an order system ".repeat(3)}${i}`);
const work = tempDir("triage-use-thread-");

describe("USE-Lite on a worker thread", () => {
  let threaded: UseEncoder;
  let here: UseEncoder;
  beforeAll(async () => {
    [threaded, here] = await Promise.all([UseEncoder.load(), UseEncoder.load({ thread: false })]);
  });
  afterAll(async () => {
    await Promise.all([threaded?.close(), here?.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  it("gives the vectors the session on the calling thread gives, batch padding included", async () => {
    const [a, b] = await Promise.all([threaded.embed(texts), here.embed(texts)]);
    expect(a.length).toBe(texts.length);
    for (let i = 0; i < texts.length; i++) {
      expect(a[i].length).toBe(512);
      for (let d = 0; d < 512; d++) expect(a[i][d]).toBeCloseTo(b[i][d], 6);
    }
  });

  it("leaves the event loop free while a batch runs", async () => {
    // Count event-loop turns during one 32-text batch: on the calling thread the run is one synchronous call.
    const turnsDuring = async (encoder: UseEncoder) => {
      let turns = 0;
      let running = true;
      const spin = () => {
        turns++;
        if (running) setImmediate(spin);
      };
      setImmediate(spin);
      await encoder.embed(long);
      running = false;
      return turns;
    };
    expect(await turnsDuring(here)).toBeLessThan(10);
    expect(await turnsDuring(threaded)).toBeGreaterThan(50);
  });

  it("fails clearly once closed, and an encoder never closed does not keep its process alive", async () => {
    const closed = await UseEncoder.load();
    await closed.close();
    await expect(closed.embed(["x"])).rejects.toThrow(/closed/);
    const script = join(work, "unclosed.mts");
    writeFileSync(
      script,
      `import { UseEncoder } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, "..", "..", "..", "src", "encoders", "use", "encoder.ts")).href)};\n` +
        `const e = await UseEncoder.load();\nconst [v] = await e.embed(["hello"]);\nconsole.log(v.length);\n`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script], { timeout: 60_000 });
    expect(stdout.trim()).toBe("512");
  });
});
