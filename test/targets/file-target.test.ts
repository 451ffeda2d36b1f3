import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TargetConfig } from "../../src/config/types.js";
import type { Backend } from "../../src/registry/backend.js";
import type { RegistryChange } from "../../src/registry/registry.js";
import type { RenderContext } from "../../src/render/context.js";
import { type Activator, createReloadActivator } from "../../src/targets/activator.js";
import { FileTarget, type Renderer } from "../../src/targets/file-target.js";
import { captureLog } from "./capture-log.js";

const node = process.execPath;
/** Appends its name and argv to a marker file: proves a command ran, and with which arguments. */
const recorder = (marker: string, name: string, exitCode = 0) => [
  node,
  "-e",
  `require("fs").appendFileSync(process.argv[1], process.argv.slice(2).join(" ") + "\\n"); process.stderr.write("${name} said no"); process.exit(${exitCode})`,
  marker,
  name,
];

/** A fake renderer: the context is irrelevant here, the test sets the text the template "produces". */
class FakeRenderer implements Renderer {
  text = "";
  render(): string {
    return this.text;
  }
}
const context = { services: {} } as unknown as RenderContext;
const backend = (id: string) => ({ id }) as Backend;
const change = (added: string[], removed: string[], firstEventTs?: bigint): RegistryChange => ({
  added: added.map(backend),
  removed: removed.map(backend),
  ...(firstEventTs === undefined ? {} : { firstEventTs }),
});

let dir: string;
let dest: string;
let marker: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-ft-"));
  dest = join(dir, "lb.cfg");
  marker = join(dir, "marker");
  await writeFile(marker, "");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeTarget(options: {
  check?: string[];
  reload?: string[];
  activator?: Activator;
  dryRun?: PassThrough;
}) {
  const config: TargetConfig = {
    template: join(dir, "lb.hbs"),
    dest,
    commandTimeoutMs: 5000,
    ...(options.check ? { check: options.check } : {}),
    ...(options.reload ? { reload: options.reload } : {}),
  };
  const renderer = new FakeRenderer();
  const { log, lines } = captureLog();
  const target = new FileTarget({
    config,
    renderer,
    activator: options.activator ?? createReloadActivator(config),
    log,
    clock: () => 5_000_000n,
    ...(options.dryRun ? { dryRun: { out: options.dryRun, color: false } } : {}),
  });
  return { target, renderer, lines };
}

describe("FileTarget.apply", () => {
  it("checks the staged file beside dest, renames it over dest, reloads and logs the change", async () => {
    const { target, renderer, lines } = makeTarget({
      check: recorder(marker, "check", 0).concat("{staged}"),
      reload: recorder(marker, "reload"),
    });
    renderer.text = "server a\n";
    expect(await target.apply(context, change(["b_a"], ["b_z"], 2_000_000n))).toEqual({
      status: "applied",
      method: "reload",
      write: "rename",
    });
    const [checkLine, reloadLine] = (await readFile(marker, "utf8")).split("\n");
    expect(checkLine).toMatch(new RegExp(`^check ${dir}/\\.lb\\.cfg\\.lbwatch-\\d+-[0-9a-f]{8}$`));
    expect([reloadLine, await readFile(dest, "utf8"), await readdir(dir)]).toEqual([
      "reload",
      "server a\n",
      ["lb.cfg", "marker"],
    ]);
    // The clock stands still in these tests: every stage took 0 ms, 3 ms after the event.
    expect(lines).toEqual([
      {
        level: 20,
        target: dest,
        latencyMs: 3,
        beforeApplyMs: 3,
        renderMs: 0,
        readMs: 0,
        stageMs: 0,
        checkMs: 0,
        commitMs: 0,
        activateMs: 0,
        msg: "apply stages",
      },
      {
        level: 30,
        target: dest,
        added: ["b_a"],
        removed: ["b_z"],
        latencyMs: 3,
        write: "rename",
        activation: "reload",
        msg: "target applied",
      },
    ]);
  });

  it("does nothing when the render is byte-identical to dest", async () => {
    await writeFile(dest, "same\n");
    const { target, renderer, lines } = makeTarget({
      check: recorder(marker, "check"),
      reload: recorder(marker, "reload"),
    });
    renderer.text = "same\n";
    expect(await target.apply(context, change([], []))).toEqual({ status: "unchanged" });
    expect([await readFile(marker, "utf8"), lines]).toEqual(["", []]);
  });

  it("leaves dest unchanged, removes the staged file and skips reload when the check fails", async () => {
    await writeFile(dest, "old\n");
    const { target, renderer, lines } = makeTarget({
      check: recorder(marker, "check", 2),
      reload: recorder(marker, "reload"),
    });
    renderer.text = "new\n";
    const outcome = await target.apply(context, change(["b_a"], []));
    expect(outcome).toMatchObject({ status: "failed", error: { code: "E_CHECK_FAILED", exitCode: 2 } });
    expect([
      await readFile(dest, "utf8"),
      await readFile(marker, "utf8"),
      (await readdir(dir)).sort(),
    ]).toEqual(["old\n", "check\n", ["lb.cfg", "marker"]]);
    expect(lines).toEqual([
      {
        level: 50,
        target: dest,
        code: "E_CHECK_FAILED",
        argv: recorder(marker, "check", 2),
        exitCode: 2,
        stderr: "check said no",
        timedOut: false,
        msg: "target not applied: dest left as it was",
      },
    ]);
  });

  it("puts the previous dest back when the reload fails, so the next apply tries again", async () => {
    await writeFile(dest, "old\n");
    const failing = makeTarget({ reload: recorder(marker, "reload", 1) });
    failing.renderer.text = "new\n";
    expect(await failing.target.apply(context, change([], []))).toMatchObject({
      status: "failed",
      error: { code: "E_RELOAD_FAILED", exitCode: 1, stderr: "reload said no" },
    });
    expect(await readFile(dest, "utf8")).toBe("old\n");

    const retried = makeTarget({ reload: recorder(marker, "reload", 0) });
    retried.renderer.text = "new\n";
    expect(await retried.target.apply(context, change([], []))).toMatchObject({ status: "applied" });
    expect([await readFile(dest, "utf8"), await readFile(marker, "utf8")]).toEqual([
      "new\n",
      "reload\nreload\n",
    ]);
  });

  it("removes a dest it created when the first reload fails, leaving things as they were", async () => {
    const { target, renderer } = makeTarget({ reload: recorder(marker, "reload", 1) });
    renderer.text = "new\n";
    expect(await target.apply(context, change([], []))).toMatchObject({ status: "failed" });
    expect(await readdir(dir)).toEqual(["marker"]);
  });

  it("hands previous and next content to a plugged-in activator", async () => {
    await writeFile(dest, "old\n");
    const seen: unknown[] = [];
    const activator: Activator = {
      async activate(input) {
        seen.push({ ...input, fileNow: await readFile(dest, "utf8") });
        return { method: "runtime-api", detail: "2 servers added" };
      },
    };
    const { target, renderer } = makeTarget({ activator });
    renderer.text = "new\n";
    const c = change(["b_a"], []);
    expect(await target.apply(context, c)).toEqual({
      status: "applied",
      method: "runtime-api",
      write: "rename",
    });
    expect(seen).toEqual([{ previous: "old\n", next: "new\n", dest, change: c, fileNow: "new\n" }]);
  });

  it("applies a change live before any file work, then writes dest behind it", async () => {
    await writeFile(dest, "old\n");
    const seen: unknown[] = [];
    const activator: Activator = {
      async applyLive(input) {
        seen.push({
          ...input,
          fileNow: await readFile(dest, "utf8"),
          checks: await readFile(marker, "utf8"),
        });
        return { method: "runtime-api", detail: "1 added, 0 removed" };
      },
      activate: () => Promise.reject(new Error("activate must not run after a live apply")),
    };
    const { target, renderer, lines } = makeTarget({ activator, check: recorder(marker, "check") });
    renderer.text = "new\n";
    const first = change(["b_a"], [], 2_000_000n);
    expect(await target.apply(context, first)).toEqual({
      status: "applied",
      method: "runtime-api",
      write: "deferred",
    });
    expect(await target.flush()).toBe(true);
    expect([await readFile(dest, "utf8"), await readFile(marker, "utf8")]).toEqual(["new\n", "check\n"]);
    // The next change is diffed against what runs (the last render), whatever dest holds meanwhile.
    await writeFile(dest, "edited by hand\n");
    renderer.text = "newer\n";
    const second = change(["b_b"], []);
    await target.apply(context, second);
    await target.flush();
    expect(seen).toEqual([
      { previous: "old\n", next: "new\n", change: first, fileNow: "old\n", checks: "" },
      { previous: "new\n", next: "newer\n", change: second, fileNow: "edited by hand\n", checks: "check\n" },
    ]);
    expect(await readFile(dest, "utf8")).toBe("newer\n");
    expect(lines.filter((l) => l.msg === "target applied")[0]).toEqual({
      level: 30,
      target: dest,
      added: ["b_a"],
      removed: [],
      latencyMs: 3,
      write: "deferred",
      activation: "runtime-api",
      detail: "1 added, 0 removed",
      msg: "target applied",
    });
  });

  it("writes, checks and activates with the reason when the live path needs the file", async () => {
    await writeFile(dest, "old\n");
    const seen: unknown[] = [];
    const activator: Activator = {
      applyLive: async () => ({ fallback: "line 3 changed outside the servers of a backend" }),
      async activate(input) {
        seen.push({ reason: input.reason, fileNow: await readFile(dest, "utf8") });
        return { method: "reload", detail: input.reason };
      },
    };
    const { target, renderer } = makeTarget({ activator, check: recorder(marker, "check") });
    renderer.text = "new\n";
    expect(await target.apply(context, change(["b_a"], []))).toEqual({
      status: "applied",
      method: "reload",
      write: "rename",
    });
    expect([seen, await readFile(marker, "utf8")]).toEqual([
      [{ reason: "line 3 changed outside the servers of a backend", fileNow: "new\n" }],
      "check\n",
    ]);
  });

  it("logs E_CHECK_FAILED when dest cannot be written behind a live apply, and retries on the next apply", async () => {
    await writeFile(dest, "old\n");
    const refuse = join(dir, "refuse");
    await writeFile(refuse, "");
    // Fails while the file `refuse` exists.
    const script = `if (require("fs").existsSync(process.argv[1])) { process.stderr.write("no"); process.exit(3) }`;
    const check = [node, "-e", script, refuse];
    const activator: Activator = {
      applyLive: async () => ({ method: "runtime-api" }),
      activate: () => Promise.reject(new Error("activate must not run after a live apply")),
    };
    const { target, renderer, lines } = makeTarget({ activator, check });
    renderer.text = "new\n";
    await target.apply(context, change(["b_a"], []));
    expect([await target.flush(), await readFile(dest, "utf8")]).toEqual([false, "old\n"]);
    expect(lines.filter((l) => l.level === 50)).toEqual([
      {
        level: 50,
        target: dest,
        code: "E_CHECK_FAILED",
        argv: check,
        exitCode: 3,
        stderr: "no",
        timedOut: false,
        msg: "dest not written although the load balancer already runs this change: the next apply retries; a restart before then loads the older dest",
      },
    ]);
    await rm(refuse);
    // Nothing new to route, but dest is behind: the same render is written again.
    expect(await target.apply(context, change([], []))).toEqual({ status: "unchanged" });
    expect([await target.flush(), await readFile(dest, "utf8")]).toEqual([true, "new\n"]);
  });

  it("reports a template that fails while rendering as E_TEMPLATE and leaves dest alone", async () => {
    await writeFile(dest, "old\n");
    const { target, renderer } = makeTarget({ reload: recorder(marker, "reload") });
    renderer.render = () => {
      throw new Error('"backends" not defined in [object Object]');
    };
    expect(await target.apply(context, change([], []))).toMatchObject({
      status: "failed",
      error: { code: "E_TEMPLATE" },
    });
    expect([await readFile(dest, "utf8"), await readFile(marker, "utf8")]).toEqual(["old\n", ""]);
  });

  it("in dry-run prints each distinct render's diff once and never writes or reloads", async () => {
    await writeFile(dest, "a\n");
    const out = new PassThrough();
    const { target, renderer } = makeTarget({ reload: recorder(marker, "reload"), dryRun: out });
    renderer.text = "a\nb\n";
    expect(await target.apply(context, change([], []))).toEqual({ status: "diffed" });
    expect(await target.apply(context, change([], []))).toEqual({ status: "unchanged" });
    expect(String(out.read())).toBe(`--- ${dest}\tcurrent\n+++ ${dest}\trendered\n@@ -1,1 +1,2 @@\n a\n+b\n`);
    expect([await readFile(dest, "utf8"), await readFile(marker, "utf8"), await readdir(dir)]).toEqual([
      "a\n",
      "",
      ["lb.cfg", "marker"],
    ]);
  });

  it("writes in place and warns when dest is a bind mount that rename cannot replace", async () => {
    const source = join(dir, "source.cfg");
    await writeFile(source, "old\n");
    await writeFile(dest, "");
    execFileSync("mount", ["--bind", source, dest]);
    try {
      const { target, renderer, lines } = makeTarget({});
      renderer.text = "new\n";
      expect(await target.apply(context, change([], []))).toEqual({
        status: "applied",
        method: "none",
        write: "in-place",
      });
      expect([await readFile(source, "utf8"), lines[0]]).toEqual([
        "new\n",
        {
          level: 40,
          target: dest,
          msg: "rename refused (EBUSY: dest is a bind mount): wrote in place instead",
        },
      ]);
    } finally {
      execFileSync("umount", [dest]);
    }
  });
});
