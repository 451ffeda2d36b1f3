import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
