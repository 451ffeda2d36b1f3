import { readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, lbwatchBin, type Workspace } from "./lbwatch-process.js";

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.remove();
  ws = undefined;
});

const check = (config: string) =>
  execa(lbwatchBin, ["check", "-c", config], { reject: false, timeout: 30_000 });

describe("lbwatch check", () => {
  it("exits 0 for a valid config whose templates compile", async () => {
    ws = await createWorkspace({ ports: "8000-8099" });
    const result = await check(ws.config);
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([
      0,
      `${ws.config}: ok (1 services, 1 targets)`,
      "",
    ]);
  });

  it("warns about a service that matches by port alone and still exits 0", async () => {
    ws = await createWorkspace({ ports: "8000-8099" });
    await writeFile(ws.config, (await readFile(ws.config, "utf8")).replace("    uid: [0]\n", ""));
    const result = await check(ws.config);
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      "warning: services.web: matches by port alone: any local user could register a backend by listening on " +
        "8000-8099; add a uid or cgroup filter",
    ]);
  });

  it("exits 2 with file:line:column when a template does not compile", async () => {
    ws = await createWorkspace({ ports: "8000-8099", template: "a\n{{#each services.web.backends}}\nb\n" });
    const result = await check(ws.config);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${ws.template}:4:1: parse error: `));
  });

  it("exits 2 with one line per problem when the config is invalid", async () => {
    ws = await createWorkspace({ ports: "8000-8099" });
    await writeFile(
      ws.config,
      "wait: { min: 2 parsecs }\nservices:\n  web:\n    ports: [80x]\n    colour: blue\ntargets: []\n",
    );
    const result = await check(ws.config);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n").length).toBeGreaterThanOrEqual(3);
    expect(result.stderr).toContain('services.web.ports[0]: "80x" is not a port or range');
  });
});
