import { execFileSync } from "node:child_process";
import { chmod, chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readDest, stage, writeAtomic } from "../../src/targets/atomic-write.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-aw-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("stage and commit", () => {
  it("stages beside dest, leaves dest alone until commit, then renames over it", async () => {
    const dest = join(dir, "haproxy.cfg");
    await writeFile(dest, "old\n");
    const staged = await stage(dest, "new\n");
    expect([staged.path.startsWith(`${dir}/.haproxy.cfg.lbwatch-`), await readFile(dest, "utf8")]).toEqual([
      true,
      "old\n",
    ]);
    expect(await readFile(staged.path, "utf8")).toBe("new\n");
    expect(await staged.commit()).toBe("rename");
    expect([await readFile(dest, "utf8"), await readdir(dir)]).toEqual(["new\n", ["haproxy.cfg"]]);
  });

  it("keeps the mode and owner of the dest it replaces", async () => {
    const dest = join(dir, "x.cfg");
    await writeFile(dest, "old\n");
    await chmod(dest, 0o640);
    await chown(dest, 4321, 4322);
    await (await stage(dest, "new\n")).commit();
    const st = await stat(dest);
    expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({
      mode: 0o640,
      uid: 4321,
      gid: 4322,
    });
  });

  it("creates a missing dest with mode 0644 whatever the umask", async () => {
    const dest = join(dir, "new.cfg");
    const umask = process.umask(0o077);
    try {
      await writeAtomic(dest, "a\n");
    } finally {
      process.umask(umask);
    }
    expect([(await stat(dest)).mode & 0o7777, await readFile(dest, "utf8")]).toEqual([0o644, "a\n"]);
  });

  it("discard removes the staged file and leaves dest as it was", async () => {
    const dest = join(dir, "x.cfg");
    await writeFile(dest, "old\n");
    await (await stage(dest, "new\n")).discard();
    expect([await readdir(dir), await readFile(dest, "utf8")]).toEqual([["x.cfg"], "old\n"]);
  });

  it("fails with E_WRITE naming dest when its directory does not exist", async () => {
    const dest = join(dir, "missing", "x.cfg");
    await expect(stage(dest, "a")).rejects.toMatchObject({
      code: "E_WRITE",
      message: expect.stringContaining(dest),
    });
  });

  it("writes in place when rename is refused because dest is a bind mount (EBUSY)", async () => {
    const source = join(dir, "source.cfg");
    const dest = join(dir, "mounted.cfg");
    await writeFile(source, "old\n");
    await writeFile(dest, "");
    execFileSync("mount", ["--bind", source, dest]);
    try {
      expect(await (await stage(dest, "new, longer\n")).commit()).toBe("in-place");
      expect([await readFile(dest, "utf8"), await readFile(source, "utf8")]).toEqual([
        "new, longer\n",
        "new, longer\n",
      ]);
      await (await stage(dest, "s\n")).commit();
      expect(await readFile(source, "utf8")).toBe("s\n");
    } finally {
      execFileSync("umount", [dest]);
    }
    expect((await readdir(dir)).sort()).toEqual(["mounted.cfg", "source.cfg"]);
  });
});

describe("readDest", () => {
  it("returns undefined for a dest that does not exist yet and the text of one that does", async () => {
    await writeFile(join(dir, "a"), "text");
    expect([await readDest(join(dir, "nope")), await readDest(join(dir, "a"))]).toEqual([undefined, "text"]);
  });
});
