/**
 * A session thread started ahead of its use (what `triage route` does before loading its command): start()
 * with the same options takes it, once; another start() or other options get a thread of their own; an
 * unclaimed one is closed with the other open threads.
 */
import { describe, expect, it } from "vitest";
import { closeOpenThreads } from "../../../src/encoders/open-threads.js";
import { useModelDir } from "../../../src/encoders/use/model-dir.js";
import { SessionThread } from "../../../src/encoders/use/session-thread.js";

describe("prestarted USE-Lite session thread", () => {
  it("is taken by the first start() with the same options, and works", async () => {
    const dir = useModelDir();
    const early = SessionThread.prestart({ dir, threads: 1 });
    const taken = await SessionThread.start({ dir, threads: 1 });
    expect(taken).toBe(await early);
    const again = await SessionThread.start({ dir, threads: 1 });
    expect(again).not.toBe(taken);
    const [vector] = await taken.run([[5, 6, 7]]);
    expect(vector).toHaveLength(512);
    await Promise.all([taken.close(), again.close()]);
  });

  it("is not taken by a start() with other options, and is closed with the open threads", async () => {
    const dir = useModelDir();
    const early = SessionThread.prestart({ dir, threads: 2 });
    const other = await SessionThread.start({ dir, threads: 1 });
    expect(other).not.toBe(await early);
    await other.close();
    await closeOpenThreads();
    await expect((await early).run([[5]])).rejects.toThrow(/exited|closed/);
    // Closed unclaimed, it is not handed out later.
    const fresh = await SessionThread.start({ dir, threads: 2 });
    expect(fresh).not.toBe(await early);
    expect(await fresh.run([[5]])).toHaveLength(1);
    await fresh.close();
  });
});
