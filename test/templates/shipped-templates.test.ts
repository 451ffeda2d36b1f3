import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTemplate } from "../../src/render/template.js";
import { renderContext } from "../helpers/render-context.js";

const templates = new URL("../../templates/", import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-templates-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function renderTo(template: string, services: Record<string, [string, number][]>): Promise<string> {
  const file = join(dir, `${template}.${Object.keys(services).join("-")}`);
  await writeFile(file, (await compileTemplate(join(templates, template))).render(renderContext(services)));
  return file;
}

const states: [string, Record<string, [string, number][]>][] = [
  ["one empty service", { web: [] }],
  [
    "an empty service beside one with IPv4 and IPv6 backends",
    {
      api: [],
      web: [
        ["127.0.0.1", 8001],
        ["::1", 8002],
      ],
    },
  ],
];

describe("templates/haproxy.cfg.hbs", () => {
  it.each(states)("renders a config haproxy -c accepts with %s", async (_name, services) => {
    const file = await renderTo("haproxy.cfg.hbs", services);
    const result = await execa("haproxy", ["-c", "-f", file], { reject: false });
    expect({ exitCode: result.exitCode, out: result.stdout.trim() }).toEqual({
      exitCode: 0,
      out: "Configuration file is valid",
    });
  });

  it("names each server by its backend id, with no default-server that add server would ignore", async () => {
    const file = await renderTo("haproxy.cfg.hbs", {
      web: [
        ["127.0.0.1", 8001],
        ["::1", 8002],
      ],
    });
    const text = await execa("grep", ["-E", "^\\s*(server|default-server) ", file]);
    expect(text.stdout.split("\n").map((l) => l.trim())).toEqual([
      "server b127_0_0_1_8001 127.0.0.1:8001",
      "server b6__1_8002 [::1]:8002",
    ]);
  });
});

describe("templates/nginx.conf.hbs", () => {
  it.each(states)("renders a config nginx -t accepts with %s", async (_name, services) => {
    const file = await renderTo("nginx.conf.hbs", services);
    const result = await execa("nginx", ["-t", "-c", file, "-g", `pid ${join(dir, "nginx.pid")};`], {
      reject: false,
    });
    expect({ exitCode: result.exitCode, out: result.stderr.trim() }).toEqual({
      exitCode: 0,
      out: `nginx: the configuration file ${file} syntax is ok\nnginx: configuration file ${file} test is successful`,
    });
  });
});
