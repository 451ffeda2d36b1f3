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
    expect(lines).toEqual([
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
