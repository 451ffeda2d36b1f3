import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InputWatcher } from "../../src/controller/watch.js";
import { captureLog } from "../targets/capture-log.js";

let dir: string;
let watcher: InputWatcher;
let seen: string[];

const until = async (what: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-watch-"));
  for (const f of ["lbwatch.yaml", "a.hbs", "b.hbs"]) await writeFile(join(dir, f), "x");
  seen = [];
  watcher = new InputWatcher(
    {
      onTemplate: (path) => seen.push(`template ${path}`),
      onConfig: (reason) => seen.push(`config ${reason}`),
    },
    captureLog().log,
  );
});
afterEach(async () => {
  await watcher.close();
  await rm(dir, { recursive: true, force: true });
});

describe("InputWatcher", () => {
  it("reports an edited template and an edited config file", async () => {
    await watcher.watch(join(dir, "lbwatch.yaml"), [join(dir, "a.hbs")]);
    await writeFile(join(dir, "a.hbs"), "edited");
    await until(() => seen.length === 1);
    await writeFile(join(dir, "lbwatch.yaml"), "edited");
    await until(() => seen.length === 2);
    expect(seen).toEqual([`template ${join(dir, "a.hbs")}`, "config file"]);
  });

  it("reports a template an editor replaced by renaming a new file over it", async () => {
    await watcher.watch(join(dir, "lbwatch.yaml"), [join(dir, "a.hbs")]);
    await writeFile(join(dir, ".a.hbs.swp"), "new");
    await rename(join(dir, ".a.hbs.swp"), join(dir, "a.hbs"));
    await until(() => seen.length > 0);
    expect(seen).toEqual([`template ${join(dir, "a.hbs")}`]);
  });

  it("follows a new template list after a config reload", async () => {
    await watcher.watch(join(dir, "lbwatch.yaml"), [join(dir, "a.hbs")]);
    await watcher.watch(join(dir, "lbwatch.yaml"), [join(dir, "b.hbs")]);
    await writeFile(join(dir, "a.hbs"), "not watched any more");
    await writeFile(join(dir, "b.hbs"), "watched");
    await until(() => seen.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([`template ${join(dir, "b.hbs")}`]);
  });

  it("treats SIGHUP as a request to reload the config", async () => {
    await watcher.watch(join(dir, "lbwatch.yaml"), []);
    process.kill(process.pid, "SIGHUP");
    await until(() => seen.length > 0);
    expect(seen).toEqual(["config SIGHUP"]);
  });
});

describe("InputWatcher after files are replaced", () => {
  it("still sees the next edit after `cp orig t.hbs; sed -i … t.hbs`", async () => {
    const t = join(dir, "a.hbs");
    await writeFile(join(dir, "orig"), "A");
    await watcher.watch(join(dir, "lbwatch.yaml"), [t]);
    // Back to back, as an operator's shell runs them: the rename lands while the copy is being noticed.
    await execa("sh", ["-c", 'cp "$1" "$2" && sed -i s/A/B/ "$2"', "sh", join(dir, "orig"), t]);
    await new Promise((r) => setTimeout(r, 500));
    const before = seen.length;
    await writeFile(t, "C");
    await until(() => seen.length > before);
    expect(seen.length).toBeGreaterThan(before);
  });

  it("still sees each next edit after write in place, rename over, delete + recreate, and cp + sed -i", async () => {
    const t = join(dir, "a.hbs");
    await watcher.watch(join(dir, "lbwatch.yaml"), [t]);
    const edits: (() => Promise<unknown>)[] = [
      () => writeFile(t, "in place"),
      async () => {
        await writeFile(join(dir, "new"), "renamed over");
        await rename(join(dir, "new"), t);
      },
      async () => {
        await rm(t);
        await new Promise((r) => setTimeout(r, 100));
        await writeFile(t, "recreated");
      },
      async () => {
        await execa("cp", [join(dir, "b.hbs"), t]);
        await execa("sed", ["-i", "s/x/sedded/", t]);
      },
      () => writeFile(t, "after all that"),
    ];
    for (const [i, edit] of edits.entries()) {
      const before = seen.length;
      await edit();
      await until(() => seen.length > before);
      expect([i, seen.length > before]).toEqual([i, true]);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it("keeps working after SIGHUP rebuilt it", async () => {
    await watcher.watch(join(dir, "lbwatch.yaml"), [join(dir, "a.hbs")]);
    process.kill(process.pid, "SIGHUP");
    await until(() => seen.includes("config SIGHUP"));
    await writeFile(join(dir, "a.hbs"), "edited");
    await until(() => seen.length === 2);
    expect(seen).toEqual(["config SIGHUP", `template ${join(dir, "a.hbs")}`]);
  });
});
