// Child process for crash.test.ts: writes decisions to a log until it is killed (or exits, in "exit" mode).
// Prints "committed N" after each flush returns, so the parent knows which rows were committed.
// "strict" mode: a strict log, and "committed N" right after each log() call, as a server answers.
// A third argument "feedback": each decision is followed by queued feedback about it (as the proxy's outcome
// rows), and "committed N" then covers both.
import { writeSync } from "node:fs";
import { DecisionLog } from "../../src/store/index.js";
import { makeDecision } from "./make-decision.js";

/**
 * Writes the whole line to stdout before returning. stdout is a non-blocking pipe here: when the parent
 * reads slowly, writeSync throws EAGAIN or writes part of the line, so retry until all of it is out.
 */
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

const [path, mode, withFeedback] = process.argv.slice(2);
const log = DecisionLog.open(path, { batchSize: 1_000_000, flushIntervalMs: 600_000, ...(mode === "strict" ? { durability: "strict" as const } : {}) });
let next = 0;
const logOne = () => {
  log.log(makeDecision({ requestId: `r${next}` }), `query number ${next} `.repeat(20), { n: String(next) });
  if (withFeedback === "feedback") log.queueFeedback(`r${next}`, { kind: "outcome", finalModel: "m", tokensIn: next, note: `call ${next}` });
  next++;
};

if (mode === "strict") {
  const loop = () => {
    for (let i = 0; i < 20; i++) {
      logOne();
      ack(`committed ${next}\n`); // the acknowledgement leaves only after log() returned
    }
    setImmediate(loop);
  };
  loop();
} else if (mode === "exit") {
  for (let i = 0; i < 100; i++) logOne();
  process.exit(0); // no close(): the exit hook must write the queued rows
} else {
  const loop = () => {
    for (let i = 0; i < 50; i++) logOne();
    log.flush();
    ack(`committed ${next}\n`);
    for (let i = 0; i < 7; i++) logOne(); // always some queued, never-flushed rows at kill time
    setImmediate(loop);
  };
  loop();
}
