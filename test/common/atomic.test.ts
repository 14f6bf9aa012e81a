// Atomic writes never replace what their writer did not write, and clean up only proven-dead leftovers.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_OWNER_FILE, removeDeadLeftovers, STALE_MS, writeDirAtomic, writeFileAtomic, type DirOwner } from "../../src/common/atomic.js";
import { TriageError } from "../../src/common/errors.js";
import { snapshot } from "../helpers/files.js";
import { tempDir } from "../helpers/tiers.js";

/** Owns directories holding exactly one file, `mine.txt`. */
const owner: DirOwner = {
  what: "a test output",
  refuse: (dir) => (readdirSync(dir).every((n) => n === "mine.txt") ? undefined : "it holds other files"),
};
const fill = (text: string) => (tmp: string) => writeFileSync(join(tmp, "mine.txt"), text);

function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  return r.pid!;
}

describe("writeDirAtomic", () => {
  it("writes a new directory, replaces an empty one and its own earlier output", async () => {
    const root = tempDir();
    await writeDirAtomic(join(root, "a"), owner, fill("one"));
    await writeDirAtomic(join(root, "a"), owner, fill("two"));
    expect(readFileSync(join(root, "a", "mine.txt"), "utf8")).toBe("two");
    mkdirSync(join(root, "empty"));
    await writeDirAtomic(join(root, "empty"), owner, fill("three"));
    expect(readdirSync(join(root, "empty"))).toEqual(["mine.txt"]); // the owner file never reaches the result
    expect(readdirSync(root).sort()).toEqual(["a", "empty"]);
  });

  it("refuses a folder of other files, a file, the working directory and its parents, changing nothing", async () => {
    const root = tempDir();
    const user = join(root, "notes");
    mkdirSync(join(user, "sub"), { recursive: true });
    writeFileSync(join(user, "mine.txt"), "not from the writer");
    writeFileSync(join(user, "todo.md"), "- buy milk\n");
    writeFileSync(join(user, "sub", "data.bin"), Buffer.from([0, 1, 2, 255]));
    const file = join(root, "file.txt");
    writeFileSync(file, "a file");
    const before = snapshot(root);
    await expect(writeDirAtomic(user, owner, fill("x"))).rejects.toThrow(`${user}: not replacing it, it does not hold a test output (it holds other files); nothing was changed`);
    await expect(writeDirAtomic(file, owner, fill("x"))).rejects.toThrow(`${file}: is a file, not a directory`);
    await expect(writeDirAtomic(process.cwd(), owner, fill("x"))).rejects.toThrow(/is the working directory or one of its parents/);
    await expect(writeDirAtomic(dirname(process.cwd()), owner, fill("x"))).rejects.toThrow(TriageError);
    expect(snapshot(root)).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(["file.txt", "notes"]); // no temporary left behind
  });
});

describe("writeFileAtomic", () => {
  it("replaces a file but refuses a directory at the path, with the path named", () => {
    const root = tempDir();
    const path = join(root, "bench.json");
    writeFileAtomic(path, "1");
    writeFileAtomic(path, "2");
    expect(readFileSync(path, "utf8")).toBe("2");
    const dir = join(root, "report.json");
    mkdirSync(dir);
    writeFileSync(join(dir, "keep.txt"), "keep");
    expect(() => writeFileAtomic(dir, "x")).toThrow(`${dir}: is a directory, not a file; nothing was written`);
    expect(readFileSync(join(dir, "keep.txt"), "utf8")).toBe("keep");
    expect(readdirSync(root).sort()).toEqual(["bench.json", "report.json"]);
  });
});

describe("leftovers of killed writes", () => {
  it("removes only temporaries proven dead: a dead builder's, or untouched for longer than any write takes", () => {
    const root = tempDir();
    const building = (name: string, pid?: number, host = hostname()) => {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, "part.bin"), "x");
      if (pid !== undefined) writeFileSync(join(root, name, BUILD_OWNER_FILE), JSON.stringify({ host, pid }));
    };
    building(".0a1b2c3d4e5f.building", deadPid()); // killed mid-write
    building(".111111111111.building", process.pid); // a live build
    building(".222222222222.building", deadPid(), "another-host"); // pid means nothing here
    building(".333333333333.building"); // just created, owner file not yet written
    mkdirSync(join(root, ".444444444444.old"));
    writeFileSync(join(root, ".555555555555.tmp"), "half");
    mkdirSync(join(root, ".cache"));
    mkdirSync(join(root, ".notes.old")); // not a name triage makes
    writeFileSync(join(root, ".666666666666.building"), "a file, not a build dir");
    mkdirSync(join(root, "model"));

    expect(removeDeadLeftovers(root)).toEqual([".0a1b2c3d4e5f.building"]);
    // Two hours on, age is proof enough for what the owner file could not settle, but never for a live builder.
    const later = Date.now() + 2 * STALE_MS;
    expect(removeDeadLeftovers(root, later).sort()).toEqual([".222222222222.building", ".333333333333.building", ".444444444444.old", ".555555555555.tmp"]);
    expect(readdirSync(root).sort()).toEqual([".111111111111.building", ".666666666666.building", ".cache", ".notes.old", "model"]);
    expect(existsSync(join(root, ".111111111111.building", "part.bin"))).toBe(true);
  });
});
