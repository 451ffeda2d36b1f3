import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TargetConfig } from "../../src/config/types.js";
import type { Backend } from "../../src/registry/backend.js";
import type { RenderContext } from "../../src/render/context.js";
import { contentHash } from "../../src/targets/applied-record.js";
import { FileTarget } from "../../src/targets/file-target.js";
import type { Renderer } from "../../src/targets/target.js";
import { until } from "../cli/lbwatch-process.js";
import { captureLog } from "./capture-log.js";

const node = process.execPath;
/** Appends its name and argv to a marker file and exits `exitCode`: proves a command ran, and how. */
const recorder = (marker: string, name: string, exitCode = 0) => [
  node,
  "-e",
  `require("fs").appendFileSync(process.argv[1], process.argv.slice(2).join(" ") + "\\n"); process.stderr.write("${name} said no"); process.exit(${exitCode})`,
  marker,
  name,
];

/** A renderer whose output the test sets: the context is irrelevant here. */
class FakeRenderer implements Renderer {
  readonly file = "/t.hbs";
  text = "";
  render(): string {
    return this.text;
  }
}

const desired = {
  context: () => ({ services: {} }) as RenderContext,
  delta: () => ({ services: {} }) as RenderContext,
};

let dir: string;
let dest: string;
let marker: string;
let targets: FileTarget[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-ft-"));
  dest = join(dir, "lb.cfg");
  marker = join(dir, "marker");
  await writeFile(marker, "");
  targets = [];
});
afterEach(async () => {
  for (const t of targets) await t.close();
  await rm(dir, { recursive: true, force: true });
});

function makeTarget(
  options: { check?: string[]; reload?: string[]; pidFile?: string; dryRun?: PassThrough } = {},
) {
  const config: TargetConfig = {
    template: join(dir, "lb.hbs"),
    dest,
    commandTimeoutMs: 5000,
    ...(options.check ? { check: options.check } : {}),
    ...(options.reload ? { reload: options.reload } : {}),
    ...(options.pidFile ? { pidFile: options.pidFile } : {}),
  };
  const renderer = new FakeRenderer();
  const { log, lines } = captureLog();
  const target = new FileTarget({
    config,
    renderer,
    desired,
    log,
    clock: () => process.hrtime.bigint(),
    wait: { minMs: 1, maxMs: 10 },
    ...(options.dryRun ? { dryRun: { out: options.dryRun, color: false } } : {}),
  });
  targets.push(target);
  return { target, renderer, lines };
}

const markerLines = async () => (await readFile(marker, "utf8")).split("\n").filter(Boolean);
const applied = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === "target applied");

describe("FileTarget", () => {
  it("checks the staged file beside dest, renames it over dest, reloads, records it and logs the change", async () => {
    const { target, renderer, lines } = makeTarget({
      check: recorder(marker, "check", 0).concat("{staged}"),
      reload: recorder(marker, "reload"),
    });
    renderer.text = "server a\n";
    target.start();
    const status = await target.settled();
    expect(status).toMatchObject({
      state: "ok",
      kind: "file",
      target: dest,
      lastApplied: { activation: "reload" },
    });
    const [check, reload] = await markerLines();
    expect(check).toMatch(new RegExp(`^check ${dir}/\\.lb\\.cfg\\.lbwatch-${process.pid}-[0-9a-f]{8}$`));
    expect(reload).toBe("reload");
    expect(await readFile(dest, "utf8")).toBe("server a\n");
    const record = JSON.parse(await readFile(join(dir, ".lb.cfg.lbwatch-applied"), "utf8"));
    expect(record.sha256).toBe(contentHash("server a\n"));
    expect(applied(lines)).toEqual([
      expect.objectContaining({
        target: dest,
        added: [],
        removed: [],
        activation: "reload",
        write: "rename",
      }),
    ]);
  });

  it("names exactly the backends of the change it applied", async () => {
    const { target, renderer, lines } = makeTarget({ reload: recorder(marker, "reload") });
    renderer.text = "one\n";
    target.start();
    await target.settled();
    renderer.text = "two\n";
    const b = (id: string) => ({ id, service: "web" }) as Backend;
    target.changed({
      added: [b("x")],
      removed: [b("y")],
      updated: [],
      firstEventTs: process.hrtime.bigint(),
    });
    await until(() => applied(lines).length === 2);
    await target.settled();
    expect(applied(lines)[1]).toMatchObject({ added: ["x"], removed: ["y"], activation: "reload" });
    expect(applied(lines)[1]?.latencyMs).toBeGreaterThan(0);
  });

  it("does nothing when dest already holds the render and its reload is on record", async () => {
    await writeFile(dest, "same\n");
    await writeFile(join(dir, ".lb.cfg.lbwatch-applied"), JSON.stringify({ sha256: contentHash("same\n") }));
    const { target, renderer, lines } = makeTarget({ reload: recorder(marker, "reload") });
    renderer.text = "same\n";
    target.start();
    await target.settled();
    expect([await markerLines(), applied(lines)]).toEqual([[], []]);
  });

  it("reloads a dest that holds the render but whose reload is not on record (killed between rename and reload)", async () => {
    await writeFile(dest, "same\n");
    const { target, renderer } = makeTarget({ reload: recorder(marker, "reload") });
    renderer.text = "same\n";
    target.start();
    await target.settled();
    expect(await markerLines()).toEqual(["reload"]);
  });

  it("leaves dest and the load balancer alone when the check fails with no backend to blame, and retries", async () => {
    await writeFile(dest, "old\n");
    const { target, renderer, lines } = makeTarget({
      check: recorder(marker, "check", 3),
      reload: recorder(marker, "reload"),
    });
    renderer.text = "new\n";
    target.start();
    const status = await target.settled();
    expect(status).toMatchObject({ state: "retrying", lastError: { code: "E_CHECK_FAILED" }, failures: 1 });
    expect([await readFile(dest, "utf8"), await markerLines(), await readdir(dir)]).toEqual([
      "old\n",
      ["check"],
      ["lb.cfg", "marker"],
    ]);
    expect(lines.find((l) => l.code === "E_CHECK_FAILED")).toMatchObject({
      msg: "target not applied: retrying with backoff",
      exitCode: 3,
      stderr: "check said no",
    });
    await until(async () => (await markerLines()).length >= 2, 2000);
    expect((await markerLines()).length).toBeGreaterThanOrEqual(2);
  });

  it("writes dest and waits, without failing, while the load balancer of `pidFile` is not running", async () => {
    const pidFile = join(dir, "lb.pid");
    const { target, renderer, lines } = makeTarget({ reload: recorder(marker, "reload"), pidFile });
    renderer.text = "first boot\n";
    target.start();
    expect(await target.settled()).toMatchObject({ state: "lb-down", lastError: { code: "E_LB_DOWN" } });
    expect([await readFile(dest, "utf8"), await markerLines()]).toEqual(["first boot\n", []]);
    expect(
      lines.find(
        (l) => l.msg === "load balancer not running: waiting for it (dest is kept for it to start from)",
      ),
    ).toBeDefined();
    // It starts from dest: lbwatch sees it running, started after the write, and does not reload it.
    await new Promise((r) => setTimeout(r, 100));
    const lb = spawn("sleep", ["30"], { stdio: "ignore" });
    await writeFile(pidFile, String(lb.pid));
    try {
      target.noticeListen();
      expect(await until(() => target.status().state === "ok", 3000)).toBe(true);
      expect(await markerLines()).toEqual([]);
    } finally {
      lb.kill();
    }
  });

  it("removes staged files left by a lbwatch that is gone, and only those", async () => {
    const dead = join(dir, ".lb.cfg.lbwatch-999999999-0123abcd");
    const mine = join(dir, `.lb.cfg.lbwatch-${process.pid}-0123abcd`);
    const other = join(dir, ".lb.cfg.keep-me");
    for (const f of [dead, mine, other]) await writeFile(f, "x");
    const { target, renderer } = makeTarget();
    renderer.text = "x\n";
    target.start();
    await target.settled();
    expect((await readdir(dir)).sort()).toEqual(
      [".lb.cfg.keep-me", `.lb.cfg.lbwatch-${process.pid}-0123abcd`, "lb.cfg", "marker"].sort(),
    );
  });

  it("reports a template that fails while rendering as E_TEMPLATE and leaves dest alone", async () => {
    await writeFile(dest, "old\n");
    const { target, renderer } = makeTarget({ reload: recorder(marker, "reload") });
    renderer.render = () => {
      throw Object.assign(new Error('/t.hbs:1:3: "weight" not defined'), { code: "E_TEMPLATE" });
    };
    target.start();
    expect((await target.settled()).state).toBe("retrying");
    expect([await readFile(dest, "utf8"), await markerLines()]).toEqual(["old\n", []]);
  });

  it("in dry-run prints each distinct render's diff once and never writes or reloads", async () => {
    await writeFile(dest, "a\n");
    const out = new PassThrough();
    const { target, renderer } = makeTarget({ reload: recorder(marker, "reload"), dryRun: out });
    renderer.text = "a\nb\n";
    target.start();
    await target.settled();
    target.resync();
    await target.settled();
    expect(String(out.read())).toBe(`--- ${dest}\tcurrent\n+++ ${dest}\trendered\n@@ -1,1 +1,2 @@\n a\n+b\n`);
    expect([await readFile(dest, "utf8"), await markerLines(), await readdir(dir)]).toEqual([
      "a\n",
      [],
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
      target.start();
      await target.settled();
      expect([await readFile(source, "utf8"), lines.find((l) => l.level === 40)]).toEqual([
        "new\n",
        {
          level: 40,
          target: dest,
          msg: "rename refused (EBUSY: dest is a bind mount): wrote in place instead",
        },
      ]);
      expect(applied(lines)[0]).toMatchObject({ activation: "write", write: "in-place" });
    } finally {
      execFileSync("umount", [dest]);
    }
  });
});
