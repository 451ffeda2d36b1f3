import { readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../helpers/haproxy.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import { createWorkspace, lbwatchBin, portBlock, type Workspace } from "./lbwatch-process.js";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function workspace(slot: number, template?: string): Promise<{ base: number; ws: Workspace }> {
  const base = portBlock(slot);
  const ws = await createWorkspace({ ports: `${base}-${base + 99}`, ...(template ? { template } : {}) });
  cleanups.push(() => ws.remove());
  return { base, ws };
}

async function listen(port: number): Promise<ListenerProcess> {
  const listener = await startListenerProcess({ addr: "127.0.0.1", port, backlog: 8 });
  cleanups.push(() => listener.stop());
  return listener;
}

const lbwatch = (...args: string[]) => execa(lbwatchBin, args, { reject: false, timeout: 30_000 });

// --once takes a /proc snapshot instead of attaching the probe, so these run without eBPF.
describe("lbwatch run --once", () => {
  it("renders the listeners up now, checks, writes, reloads once and exits 0", async () => {
    const { base, ws } = await workspace(10);
    await listen(base + 4);
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest(), await ws.reloads()]).toEqual([
      0,
      `server b127_0_0_1_${base + 4} 127.0.0.1:${base + 4}\n`,
      1,
    ]);
    const again = await lbwatch("run", "--once", "-c", ws.config);
    expect([again.exitCode, await ws.reloads()]).toEqual([0, 1]);
  });

  it("exits 1 and leaves dest alone when the check fails whatever the backends", async () => {
    const { ws } = await workspace(11, "POISON\n");
    await writeFile(ws.dest, "old\n");
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest(), await ws.reloads()]).toEqual([1, "old\n", 0]);
    expect(result.stderr).toContain('"code":"E_CHECK_FAILED"');
  });

  it("quarantines the backend that makes the check fail, applies the rest and exits 0", async () => {
    const base = portBlock(14);
    const poison = base + 9;
    const { ws } = await workspace(
      14,
      `{{#each services.web.backends}}{{port}}{{#if (eq port ${poison})}}POISON{{/if}}\n{{/each}}`,
    );
    await writeFile(ws.dest, "old\n");
    await listen(poison);
    await listen(base + 2);
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest(), await ws.reloads()]).toEqual([0, `${base + 2}\n`, 1]);
    expect(result.stderr).toContain(`"backend":"b127_0_0_1_${poison}"`);
  });

  it("exits 2 with file:line:column when the template fails to render with the listeners up", async () => {
    const { base, ws } = await workspace(15, "{{#each services.web.backends}}\n  {{weight}}\n{{/each}}\n");
    await writeFile(ws.dest, "old\n");
    await listen(base + 3);
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest()]).toEqual([2, "old\n"]);
    expect(result.stderr.trim().split("\n").slice(-3)).toEqual([
      `lbwatch: E_TEMPLATE: ${ws.template}:2:5: "weight" not defined`,
      "  {{weight}}",
      "    ^",
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("with --dry-run prints the diff on stdout, exits 0 and writes nothing", async () => {
    const { base, ws } = await workspace(12);
    await listen(base + 1);
    const result = await lbwatch("run", "--once", "--dry-run", "-c", ws.config);
    expect([result.exitCode, result.stdout, await ws.readDest(), await ws.reloads()]).toEqual([
      0,
      `--- ${ws.dest}\tcurrent\n+++ ${ws.dest}\trendered\n@@ -0,0 +1,1 @@\n+server b127_0_0_1_${base + 1} 127.0.0.1:${base + 1}`,
      undefined,
      0,
    ]);
  });

  it("exits 2 naming the key path when the config is invalid", async () => {
    const { ws } = await workspace(13);
    await writeFile(ws.config, "services:\n  web:\n    ports: [80, 90x]\ntargets: []\n");
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('services.web.ports[1]: "90x" is not a port or range');
  });

  it("exits 1 and changes nothing when its etcd source cannot list", async () => {
    const { base, ws } = await workspace(16);
    await writeFile(ws.dest, "old\n");
    await listen(base + 3);
    const nobody = await freePort();
    const text = await readFile(ws.config, "utf8");
    await writeFile(
      ws.config,
      `sources:\n  - local: {}\n  - etcd: { endpoints: ["http://127.0.0.1:${nobody}"], prefix: /x }\n${text}`,
    );
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest(), await ws.reloads()]).toEqual([1, "old\n", 0]);
    expect(result.stderr.trim().split("\n").at(-1)).toMatch(
      /^lbwatch: E_UNREACHABLE: no view from source etcd-0 /,
    );
  });
});
