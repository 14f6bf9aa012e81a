/** Ends its process while the USE encoder's thread is inside a run (see exit.test.ts). */
import { exitAfterThreads } from "../../../src/cli/output.js";
import { UseEncoder } from "../../../src/encoders/use/encoder.js";

const encoder = await UseEncoder.load();
const texts = Array.from({ length: 2000 }, (_, i) => `sentence number ${i}, long enough to keep the encoder busy for a while`);
let started = false;
void encoder.embed(texts, () => void (started = true));
while (!started) await new Promise((r) => setTimeout(r, 5));
await exitAfterThreads(0);
