// Child process for the leftovers test: starts an atomic write of PARENT/NAME, says "filling", then hangs in it until killed.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDirAtomic } from "../../src/common/atomic.js";
import { artifactOwner } from "../../src/model/files.js";

const [parent, name] = process.argv.slice(2);
await writeDirAtomic(join(parent, name), artifactOwner, async (tmp) => {
  writeFileSync(join(tmp, "head.bin"), new Uint8Array(1 << 20));
  process.stdout.write("filling\n");
  await new Promise(() => setInterval(() => {}, 1000));
});
