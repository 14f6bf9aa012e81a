// Child process for crash.test.ts: writes decisions to a PostgreSQL log until it is SIGKILLed.
// "strict": prints "committed N" once the promise of decision N-1's log() has resolved, as a server answers.
// "batched": logs a decision every millisecond and prints "logged N" after each log() call.
import { writeSync } from "node:fs";
import { openDecisionLog } from "../../../src/store/index.js";
import { makeDecision } from "../make-decision.js";

function ack(line: string): void {
  let buf = Buffer.from(line);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(1, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  }
}

const [url, mode, interval] = process.argv.slice(2);
const log = await openDecisionLog(url, mode === "strict" ? { durability: "strict" } : { flushIntervalMs: Number(interval) });
let next = 0;

if (mode === "strict") {
  // Several callers at once, as concurrent requests are: each acknowledges only after its commit.
  const worker = async () => {
    for (;;) {
      const i = next++;
      await log.log(makeDecision({ requestId: `r${i}` }), `query number ${i}`);
      ack(`committed r${i}\n`);
    }
  };
  for (let w = 0; w < 8; w++) void worker();
} else {
  setInterval(() => {
    log.log(makeDecision({ requestId: `r${next}` }), `query number ${next}`);
    ack(`logged ${Date.now()} r${next++}\n`);
  }, 1);
}
