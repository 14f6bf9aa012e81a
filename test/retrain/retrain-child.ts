// Child process for the kill test: retrains the registry named in argv and reports progress on stdout.
import { CachedEncoder } from "../../src/encoders/cache.js";
import { UseEncoder } from "../../src/encoders/use/encoder.js";
import { retrain } from "../../src/retrain/retrain.js";
import { TEST_CACHE } from "./helpers.js";

const [registry, baseData, logDb, evalData] = process.argv.slice(2);
const encoder = new CachedEncoder(await UseEncoder.load(), TEST_CACHE);
process.stdout.write("started\n");
const report = await retrain({ registry, baseData, logDb, evalData, heldOut: { share: 0 }, minHeldOut: 10, encoder, folds: 3, onProgress: (m) => process.stdout.write(`${m}\n`) });
process.stdout.write(`done ${JSON.stringify({ promoted: report.promoted })}\n`);
