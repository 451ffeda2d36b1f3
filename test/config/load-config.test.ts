import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configWarnings, loadConfig } from "../../src/config/load-config.js";
import type { Config } from "../../src/config/types.js";
import { LbwatchError } from "../../src/errors.js";

const fixtures = resolve(import.meta.dirname, "../fixtures");
const template = join(fixtures, "templates/backends.hbs");

/** The E_CONFIG error a config text produces, as the user would read it. */
async function configError(yaml: string, dir: string): Promise<LbwatchError> {
  const file = join(dir, "lbwatch.yaml");
  await writeFile(file, yaml);
  const err = await loadConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LbwatchError);
  expect((err as LbwatchError).code).toBe("E_CONFIG");
  return err as LbwatchError;
}

describe("loadConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads every key, resolving paths against the config file's directory and user names to uids", async () => {
    const config = await loadConfig(join(fixtures, "config/full.yaml"));
    expect(config).toEqual<Config>({
      file: join(fixtures, "config/full.yaml"),
      hostAddress: "127.0.0.2",
      hostAddress6: "::1",
      wait: { minMs: 50, maxMs: 1000 },
      resyncMs: 30_000,
      services: [
        {
          name: "web",
          ports: [
            { from: 8000, to: 8099 },
            { from: 9000, to: 9000 },
          ],
          uid: [1000, 0],
          comm: ["python3", "node*"],
          cgroup: "/system.slice/web.service",
          netns: { kind: "host" },
          addr: ["0.0.0.0", "::ffff:127.0.0.1"],
        },
        { name: "api", ports: [{ from: 7000, to: 7000 }], netns: { kind: "any" }, userns: "allow" },
      ],
      targets: [
        {
          template,
          dest: "/tmp/lbwatch-fixture-backends.cfg",
          check: ["haproxy", "-c", "-f", "{staged}"],
          reload: ["systemctl", "reload", "haproxy"],
          commandTimeoutMs: 5000,
          haproxy: {
            runtimeSocket: join(fixtures, "config/run/admin.sock"),
            masterSocket: "/run/haproxy/master.sock",
          },
        },
      ],
      sources: [{ kind: "local" }],
    });
  });

  it("fills in the documented defaults", async () => {
    const config = await loadConfig(join(fixtures, "config/minimal.yaml"));
    expect(config).toEqual<Config>({
      file: join(fixtures, "config/minimal.yaml"),
      hostAddress: "127.0.0.1",
      hostAddress6: "::1",
      wait: { minMs: 20, maxMs: 500 },
      resyncMs: 60_000,
      services: [{ name: "web", ports: [{ from: 8080, to: 8080 }], netns: { kind: "any" } }],
      targets: [{ template, dest: "/tmp/lbwatch-fixture-minimal.cfg", commandTimeoutMs: 10_000 }],
      sources: [{ kind: "local" }],
    });
  });

  it("reports every problem at once, one line each, naming the key path", async () => {
    const err = await configError(
      `
hostAdress: 127.0.0.1
hostAddress6: localhost
wait: { min: 2s, max: 1s }
resync: 60
services:
  web:
    ports: [8000-8099, "90x", 9000-8000]
    uid: [1000, nosuchuser-lbwatch]
    comm: python3
    netns: /run/netns/absent-lbwatch-${process.pid}
    userns: yes
    addr: [0.0.0.0, 300.1.1.1]
    prots: [1]
  "bad name":
    ports: [80]
  glob:
    ports: [81]
    comm: ["ok*", "["]
targets:
  - template: missing.hbs
    dest: /nonexistent-lbwatch/haproxy.cfg
    check: "haproxy -c -f {staged}"
    reload: [kill, -HUP, 1]
    commandTimeout: 0
    haproxy: { runtimeSockett: /run/admin.sock }
  - template: ${template}
    dest: /tmp/x.cfg
  - template: ${template}
    dest: /tmp/x.cfg
`,
      dir,
    );
    expect(err.message).toBe(
      [
        'hostAdress: unknown key; did you mean "hostAddress"?',
        'hostAddress6: "localhost" is not an IPv6 address',
        "wait: min (2000ms) must not be more than max (1000ms)",
        "resync: 60 is not a duration such as 20ms, 1s or 1m (add a unit: 60ms or 60s)",
        'services.web.prots: unknown key; did you mean "ports"?',
        'services.web.ports[1]: "90x" is not a port or range (1-65535, e.g. 9000 or 8000-8099)',
        'services.web.ports[2]: "9000-8000" is an empty range: write the lower port first (8000-9000)',
        'services.web.uid[1]: no user named "nosuchuser-lbwatch" in /etc/passwd',
        'services.web.comm: must be a non-empty list such as [python3, "node*"]',
        `services.web.netns: /run/netns/absent-lbwatch-${process.pid} does not exist (create it with "ip netns add", or use any, host, a path such as /run/netns/blue, or a namespace inode number)`,
        'services.web.userns: "yes" is not allow or refuse (allow: also network namespaces made in other user namespaces)',
        'services.web.addr[1]: "300.1.1.1" is not an IP address',
        "services.bad name: service names may hold only letters, digits, '_', '.' and '-' (used as backend names)",
        'services.glob.comm[1]: "[" is not a valid glob: the [ at character 1 is never closed (write \\[ to match a [)',
        `targets[0].template: ${join(dir, "missing.hbs")} does not exist`,
        "targets[0].dest: directory /nonexistent-lbwatch does not exist",
        'targets[0].check: must be an argv list such as [haproxy, -c, -f, "{staged}"], not a string: lbwatch never runs a shell',
        'targets[0].reload[2]: 1 is not a non-empty string: quote it ("1")',
        "targets[0].commandTimeout: must be more than 0",
        'targets[0].haproxy.runtimeSockett: unknown key; did you mean "runtimeSocket"?',
        "targets[2].dest: /tmp/x.cfg is already the dest of targets[1]",
      ].join("\n"),
    );
  });

  it("requires services and targets, and suggests known keys for a far-off typo", async () => {
    const err = await configError("colour: blue\nhostAddress: ::1\n", dir);
    expect(err.message).toBe(
      [
        "colour: unknown key; known keys: hostAddress, hostAddress6, wait, resync, sources, services, targets, http",
        'hostAddress: "::1" is not an IPv4 address',
        "services: must be a mapping of at least one service name to its rule, e.g. web: {ports: [8000-8099]}",
        "targets: must be a non-empty list of {template, dest, check, reload}",
      ].join("\n"),
    );
  });

  it("reports an empty ports list, a template that is a directory and a dest that is a directory", async () => {
    const err = await configError(
      `services: { web: { uid: [0], ports: [] } }\ntargets: [{ template: ${fixtures}, dest: ${dir} }]\n`,
      dir,
    );
    expect(err.message).toBe(
      [
        "services.web.ports: must be a non-empty list such as [8000-8099, 9000]",
        `targets[0].template: ${fixtures} is not a file`,
        `targets[0].dest: ${dir} is a directory`,
      ].join("\n"),
    );
  });

  it("reports YAML syntax errors with file:line:column", async () => {
    const err = await configError("services:\n  web: {ports: [80]\ntargets: []\n", dir);
    expect(err.message).toBe(
      `${join(dir, "lbwatch.yaml")}:3:1: Flow map in block collection must be sufficiently indented and end with a }`,
    );
  });

  it("reports a config file that cannot be read", async () => {
    const file = join(dir, "absent.yaml");
    await expect(loadConfig(file)).rejects.toThrow(
      new LbwatchError("E_CONFIG", `${file}: cannot read the config file (ENOENT)`),
    );
  });

  it("refuses a netns path that is not a network namespace", async () => {
    const err = await configError(
      `services: { web: { ports: [80], netns: /etc/passwd } }\ntargets: [{ template: ${template}, dest: /tmp/x.cfg }]\n`,
      dir,
    );
    expect(err.message).toBe("services.web.netns: /etc/passwd is not a network namespace file");
  });
});

describe("loadConfig with a real network namespace", () => {
  const name = `lbwcfg${process.pid}`;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-config-"));
    execFileSync("ip", ["netns", "add", name]);
  });
  afterAll(async () => {
    execFileSync("ip", ["netns", "delete", name]);
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves a netns path to its inode at load", async () => {
    const file = join(dir, "lbwatch.yaml");
    await writeFile(
      file,
      `services: { blue: { ports: [80], netns: /run/netns/${name} }, num: { ports: [81], netns: 4026531840 } }\n` +
        `targets: [{ template: ${template}, dest: /tmp/x.cfg }]\n`,
    );
    const config = await loadConfig(file);
    const inode = (await stat(`/run/netns/${name}`)).ino;
    expect(config.services.map((s) => s.netns)).toEqual([
      { kind: "inode", inode, source: `/run/netns/${name}` },
      { kind: "inode", inode: 4026531840, source: "4026531840" },
    ]);
  });
});

describe("configWarnings", () => {
  it("warns about port-only services, checks without {staged} and targets that reload nothing", async () => {
    const config = await loadConfig(join(fixtures, "config/full.yaml"));
    config.targets.push({ template, dest: "/tmp/y.cfg", check: ["nginx", "-t"], commandTimeoutMs: 1000 });
    expect(configWarnings(config)).toEqual([
      "services.api: matches by port alone: any local user could register a backend by listening on 7000; add a uid or cgroup filter",
      'targets[1].check: has no "{staged}" argument, so it does not check the new file',
      "targets[1]: has no reload or haproxy key: nothing tells the load balancer about a change",
    ]);
  });

  it("warns about a service without ports only when no etcd source could feed it", async () => {
    const config = await loadConfig(join(fixtures, "config/minimal.yaml"));
    config.services = [{ name: "web", ports: [], netns: { kind: "any" } }];
    expect(configWarnings(config)).toEqual([
      "services.web: has no ports and no etcd source feeds it: it never has backends",
      "targets[0]: has no reload or haproxy key: nothing tells the load balancer about a change",
    ]);
    config.sources.push({
      kind: "etcd",
      id: "etcd-0",
      endpoints: ["http://10.0.0.1:2379"],
      prefix: "/lbwatch",
      skipLocalHost: true,
    });
    expect(configWarnings(config)).toEqual([
      "targets[0]: has no reload or haproxy key: nothing tells the load balancer about a change",
    ]);
  });
});
