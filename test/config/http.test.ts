import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenText, parseListen } from "../../src/config/http.js";
import { loadConfig } from "../../src/config/load-config.js";
import { LbwatchError } from "../../src/errors.js";

const template = resolve(import.meta.dirname, "../fixtures/templates/backends.hbs");

describe("parseListen", () => {
  it("reads IPv4 host:port, [IPv6]:port and absolute unix socket paths", () => {
    expect(
      ["127.0.0.1:9369", "0.0.0.0:1", "[::1]:65535", "[::FFFF:127.0.0.1]:80", "/run/lbwatch.sock"].map(
        parseListen,
      ),
    ).toEqual([
      { value: { kind: "tcp", host: "127.0.0.1", family: 4, port: 9369 } },
      { value: { kind: "tcp", host: "0.0.0.0", family: 4, port: 1 } },
      { value: { kind: "tcp", host: "::1", family: 6, port: 65535 } },
      { value: { kind: "tcp", host: "::ffff:127.0.0.1", family: 6, port: 80 } },
      { value: { kind: "unix", path: "/run/lbwatch.sock" } },
    ]);
  });

  it("refuses names, missing parts, ports out of range, unbracketed IPv6 and relative paths, saying which", () => {
    const cases = [
      "localhost:9369",
      ":9369",
      "9369",
      "127.0.0.1",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:80x",
      "[127.0.0.1]:80",
      "::1:9369",
      "run/lbwatch.sock",
      "./lbwatch.sock",
      `/${"x".repeat(107)}`,
      9369,
      "",
    ];
    const forms = 'host:port ("127.0.0.1:9369"), [v6]:port ("[::1]:9369") or an absolute unix socket path';
    expect(cases.map((c) => parseListen(c))).toEqual([
      { error: '"localhost:9369": "localhost" is not an IPv4 or [IPv6] address; use an IP address' },
      {
        error:
          '":9369": "" is not an IPv4 or [IPv6] address; give the address, e.g. 127.0.0.1:9369 or 0.0.0.0:9369',
      },
      { error: `"9369" is not ${forms}` },
      { error: `"127.0.0.1" is not ${forms}` },
      { error: '"127.0.0.1:0": the port must be 1-65535' },
      { error: '"127.0.0.1:65536": the port must be 1-65535' },
      { error: '"127.0.0.1:80x": the port must be 1-65535' },
      { error: '"[127.0.0.1]:80": "127.0.0.1" is not an IPv4 or [IPv6] address; use an IP address' },
      { error: `"::1:9369" is not ${forms}` },
      { error: '"run/lbwatch.sock" is a relative path: give an absolute one' },
      { error: '"./lbwatch.sock" is a relative path: give an absolute one' },
      { error: `"/${"x".repeat(107)}" is longer than a unix socket path may be (107 bytes)` },
      { error: `9369 is not ${forms}` },
      { error: `"" is not ${forms}` },
    ]);
  });

  it("writes an address back the way http.listen takes it", () => {
    const texts = ["127.0.0.1:9369", "[::1]:9369", "/run/lbwatch.sock"];
    expect(texts.map((t) => listenText((parseListen(t) as { value: never }).value))).toEqual(texts);
  });
});

describe("the http key in loadConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-http-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (http: string) => {
    const file = join(dir, "lbwatch.yaml");
    await writeFile(
      file,
      `services: { web: { ports: [80], uid: [0] } }\ntargets: [{ template: ${template}, dest: ${dir}/x.cfg }]\n${http}\n`,
    );
    return loadConfig(file);
  };
  const problems = (http: string) =>
    load(http).then(
      () => [],
      (err: unknown) => {
        expect(err).toBeInstanceOf(LbwatchError);
        expect((err as LbwatchError).code).toBe("E_CONFIG");
        return (err as LbwatchError).message.split("\n");
      },
    );

  it("is off when absent and parsed when present", async () => {
    expect((await load("")).http).toBeUndefined();
    expect((await load('http: { listen: "[::1]:9369" }')).http).toEqual({
      listen: { kind: "tcp", host: "::1", family: 6, port: 9369 },
    });
    expect((await load(`http: { listen: ${dir}/lbwatch.sock }`)).http).toEqual({
      listen: { kind: "unix", path: `${dir}/lbwatch.sock` },
    });
  });

  it("reports a bad shape, a missing or misspelt listen and a bad value by key path", async () => {
    expect(await problems('http: "127.0.0.1:9369"')).toEqual(["http: must be a mapping with keys listen"]);
    expect(await problems("http: {}")).toEqual([
      'http.listen: is required: host:port ("127.0.0.1:9369"), [v6]:port ("[::1]:9369") or an absolute unix socket path',
    ]);
    expect(await problems('http: { lisen: "127.0.0.1:1" }')).toEqual([
      'http.lisen: unknown key; did you mean "listen"?',
      'http.listen: is required: host:port ("127.0.0.1:9369"), [v6]:port ("[::1]:9369") or an absolute unix socket path',
    ]);
    expect(await problems('http: { listen: "127.0.0.1:99999" }')).toEqual([
      'http.listen: "127.0.0.1:99999": the port must be 1-65535',
    ]);
  });

  it("refuses a socket path whose directory is missing, or that is a file other than a socket", async () => {
    await writeFile(join(dir, "not-a-socket"), "");
    expect(await problems("http: { listen: /nonexistent-lbwatch/lbwatch.sock }")).toEqual([
      "http.listen: directory /nonexistent-lbwatch does not exist",
    ]);
    expect(await problems(`http: { listen: ${dir}/not-a-socket }`)).toEqual([
      `http.listen: ${dir}/not-a-socket exists and is not a socket: remove it or choose another path`,
    ]);
  });
});
