import { readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, lbwatchBin, type Workspace } from "./lbwatch-process.js";

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.remove();
  ws = undefined;
});

const regexEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

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

  it.each([
    ["{{weight}}", 1, 3, '"weight" not defined'],
    ["{{#each services.wbe}}x{{/each}}", 1, 1, "#each of a missing field"],
    ["{{#each services.wbe.backends}}x{{/each}}", 1, 9, '"wbe" not defined'],
    ["{{> nosuch}}", 1, 1, 'no partial named "nosuch"'],
    ["{{upper}}", 1, 1, "upper takes 1 argument(s), got 0"],
    ["{{#each services.web.backends}}{{weight}}{{/each}}", 1, 34, '"weight" not defined'],
  ])(
    "exits 2 for %j, which run could not render, at file:line:column with a caret",
    async (template, line, column, message) => {
      ws = await createWorkspace({ ports: "8000-8099", template: `# ok\n${template}\n` });
      const result = await check(ws.config);
      const caret = `${" ".repeat(column - 1)}^`;
      expect([result.exitCode, result.stdout]).toEqual([2, ""]);
      // One line per template and context: the message, the source line, the caret; no stack trace.
      expect(result.stderr.split("\n").slice(0, 3)).toEqual([
        expect.stringMatching(new RegExp(`^${ws.template}:${line + 1}:${column}: ${regexEscape(message)}`)),
        template,
        caret,
      ]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it.each([
    ["resync: 597h", 'resync: "597h" is more than the maximum, 168h'],
    [
      "wait: { max: 10000000000000000000h }",
      'wait.max: "10000000000000000000h" is more than the maximum, 1h',
    ],
    ["wait: { min: 61m }", 'wait.min: "61m" is more than the maximum, 1h'],
  ])("exits 2 for the oversized duration %j, naming its key", async (line, message) => {
    ws = await createWorkspace({ ports: "8000-8099" });
    const key = line.split(":")[0] ?? "";
    const rest = (await readFile(ws.config, "utf8")).replace(new RegExp(`^${key}: .*\\n`, "m"), "");
    await writeFile(ws.config, `${line}\n${rest}`);
    const result = await check(ws.config);
    expect([result.exitCode, result.stderr]).toEqual([2, message]);
  });

  it("exits 2 for an oversized commandTimeout and a glob that does not compile, naming each key", async () => {
    ws = await createWorkspace({ ports: "8000-8099" });
    const config = (await readFile(ws.config, "utf8"))
      .replace("    uid: [0]\n", '    uid: [0]\n    comm: ["[", "ok*", "+(a|b"]\n')
      .replace("    dest: lb.cfg\n", "    dest: lb.cfg\n    commandTimeout: 2h\n");
    await writeFile(ws.config, config);
    const result = await check(ws.config);
    expect([result.exitCode, result.stderr.split("\n")]).toEqual([
      2,
      [
        'services.web.comm[0]: "[" is not a valid glob: the [ at character 1 is never closed (write \\[ to match a [)',
        'services.web.comm[2]: "+(a|b" is not a valid glob: the ( at character 2 is never closed (write \\( to match a ()',
        'targets[0].commandTimeout: "2h" is more than the maximum, 1h',
      ],
    ]);
  });

  it("renders the shipped HAProxy template with each service's meta, and exits 2 for a value it refuses", async () => {
    const shipped = await readFile(new URL("../../templates/haproxy.cfg.hbs", import.meta.url), "utf8");
    ws = await createWorkspace({ ports: "8000-8099", template: shipped });
    const withMeta = async (meta: string) => {
      const text = (await readFile(ws?.config as string, "utf8")).replace(/ {4}meta: .*\n/, "");
      await writeFile(
        ws?.config as string,
        text.replace("    uid: [0]\n", `    uid: [0]\n    meta: ${meta}\n`),
      );
      return check(ws?.config as string);
    };
    expect(
      (await withMeta('{ mode: tcp, bind: "127.0.0.1:6379", serverOptions: "maxconn 10" }')).exitCode,
    ).toBe(0);
    const refused = await withMeta("{ mode: tcp }");
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.split("\n")[0]).toMatch(
      new RegExp(
        `^${regexEscape(ws.template)}:\\d+:\\d+: required: meta.bind \\(where the frontend of a tcp service listens`,
      ),
    );
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
