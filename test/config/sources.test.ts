import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { Problems } from "../../src/config/problems.js";
import { parseSources } from "../../src/config/sources.js";
import type { SourceConfig } from "../../src/config/types.js";

async function parse(value: unknown): Promise<{ sources: SourceConfig[]; problems: string[] }> {
  const problems = new Problems();
  const sources = await parseSources(value, "/etc/lbwatch", problems);
  return { sources, problems: problems.lines };
}

describe("parseSources", () => {
  it("defaults to the local source alone", async () => {
    expect(await parse(undefined)).toEqual({ sources: [{ kind: "local" }], problems: [] });
  });

  it("reads a local and etcd sources, numbering the etcd ones and telling them a local source runs", async () => {
    expect(
      await parse([
        { local: {} },
        {
          etcd: {
            endpoints: ["https://10.0.0.1:2379", "https://etcd-2.example:2379/"],
            prefix: "/lbwatch/prod",
          },
        },
        { etcd: { endpoints: ["http://[fd00::1]:2379"] } },
      ]),
    ).toEqual({
      sources: [
        { kind: "local" },
        {
          kind: "etcd",
          id: "etcd-0",
          endpoints: ["https://10.0.0.1:2379", "https://etcd-2.example:2379"],
          prefix: "/lbwatch/prod",
          skipLocalHost: true,
        },
        {
          kind: "etcd",
          id: "etcd-1",
          endpoints: ["http://[fd00::1]:2379"],
          prefix: "/lbwatch",
          skipLocalHost: true,
        },
      ],
      problems: [],
    });
  });

  it("keeps this host's claims from etcd when no local source runs", async () => {
    expect((await parse([{ etcd: { endpoints: ["http://10.0.0.1:2379"] } }])).sources).toEqual([
      {
        kind: "etcd",
        id: "etcd-0",
        endpoints: ["http://10.0.0.1:2379"],
        prefix: "/lbwatch",
        skipLocalHost: false,
      },
    ]);
  });

  it("reports every bad entry, naming its key path", async () => {
    expect(
      (
        await parse([
          { local: { ports: [80] } },
          { local: {} },
          { etc: {} },
          { local: {}, etcd: {} },
          {
            etcd: {
              endpoints: [
                "10.0.0.1:2379",
                "http://10.0.0.1",
                "http://10.0.0.1:2379/v3",
                "http://u:p@10.0.0.1:2379",
              ],
              prefix: "/lbwatch/",
              ttl: "10s",
            },
          },
          { etcd: { endpoints: [] } },
        ])
      ).problems,
    ).toEqual([
      "sources[0].local: takes no settings: write local: {}",
      "sources[1]: only one local source is possible",
      'sources[2].etc: unknown key; did you mean "etcd"?',
      "sources[3]: must be a mapping with exactly one key: local or etcd",
      'sources[4].etcd.ttl: unknown key; did you mean "tls"?',
      'sources[4].etcd.endpoints[0]: "10.0.0.1:2379" is not an etcd client URL such as http://10.0.0.1:2379',
      'sources[4].etcd.endpoints[1]: "http://10.0.0.1": write only scheme, host and port, such as http://10.0.0.1:2379',
      'sources[4].etcd.endpoints[2]: "http://10.0.0.1:2379/v3": write only scheme, host and port, such as http://10.0.0.1:2379',
      'sources[4].etcd.endpoints[3]: "http://u:p@10.0.0.1:2379": credentials in the URL are not supported',
      'sources[4].etcd.prefix: "/lbwatch/" is not a key prefix such as /lbwatch ("/" and names of letters, digits, _ . -, no trailing "/")',
      'sources[5].etcd.endpoints: must be a non-empty list of client URLs such as ["http://10.0.0.1:2379"]',
    ]);
    expect((await parse([])).problems).toEqual([
      "sources: must be a non-empty list such as [{local: {}}, {etcd: {endpoints: [...]}}]",
    ]);
  });
});

describe("loadConfig with sources", () => {
  it("accepts a service without ports, fed by agents through etcd", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lbwatch-sources-"));
    try {
      const file = join(dir, "lbwatch.yaml");
      const template = resolve(import.meta.dirname, "../fixtures/templates/backends.hbs");
      await writeFile(
        file,
        `sources:\n  - etcd: { endpoints: ["http://10.0.0.1:2379"], prefix: /lbwatch }\nservices:\n  web: {}\n` +
          `targets: [{ template: ${template}, dest: ${join(dir, "out.cfg")} }]\n`,
      );
      const config = await loadConfig(file);
      expect(config.services).toEqual([{ name: "web", ports: [], netns: { kind: "any" } }]);
      expect(config.sources).toEqual([
        {
          kind: "etcd",
          id: "etcd-0",
          endpoints: ["http://10.0.0.1:2379"],
          prefix: "/lbwatch",
          skipLocalHost: false,
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
