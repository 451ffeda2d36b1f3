import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../src/config/agent-config.js";
import { parseEtcdConnection } from "../../src/config/etcd.js";
import { loadConfig } from "../../src/config/load-config.js";
import { Problems } from "../../src/config/problems.js";
import type { EtcdConnection } from "../../src/config/types.js";
import type { LbwatchError } from "../../src/errors.js";
import { createTestPki, type TestPki } from "../helpers/test-pki.js";

const HTTPS = ["https://10.0.0.1:2379"];

describe("parseEtcdConnection", () => {
  let dir: string;
  let pki: TestPki;
  let pem: { ca: string; cert: string; key: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-etcd-config-"));
    pki = await createTestPki(dir);
    pem = {
      ca: await readFile(pki.ca, "utf8"),
      cert: await readFile(pki.client.cert, "utf8"),
      key: await readFile(pki.client.key, "utf8"),
    };
    await writeFile(join(dir, "password"), "s3cret\n", { mode: 0o600 });
    await writeFile(join(dir, "open-password"), "s3cret\n", { mode: 0o640 });
    await chmod(join(dir, "open-password"), 0o640);
    await writeFile(join(dir, "empty-password"), "\n", { mode: 0o600 });
    await writeFile(join(dir, "not-pem"), "hello\n");
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function parse(raw: Record<string, unknown>): Promise<{ value: EtcdConnection; problems: string[] }> {
    const problems = new Problems();
    const value = await parseEtcdConnection(raw, "sources[1].etcd", dir, problems);
    return { value, problems: problems.lines };
  }

  it("reads the files named relative to the config's directory, the password without its newline", async () => {
    expect(
      await parse({
        endpoints: HTTPS,
        tls: { ca: "ca.crt", cert: "lbwatch-client.crt", key: "lbwatch-client.key" },
        auth: { username: "lb", passwordFile: "password" },
      }),
    ).toEqual({
      value: {
        endpoints: HTTPS,
        prefix: "/lbwatch",
        tls: pem,
        auth: { username: "lb", password: "s3cret" },
      },
      problems: [],
    });
  });

  it("takes absolute paths, tls without a ca (the default roots) and https:// without tls", async () => {
    expect(await parse({ endpoints: HTTPS, tls: { cert: pki.client.cert, key: pki.client.key } })).toEqual({
      value: { endpoints: HTTPS, prefix: "/lbwatch", tls: { cert: pem.cert, key: pem.key } },
      problems: [],
    });
    expect(await parse({ endpoints: HTTPS })).toEqual({
      value: { endpoints: HTTPS, prefix: "/lbwatch" },
      problems: [],
    });
  });

  it("allows auth over plain http:// when every endpoint is on loopback", async () => {
    const endpoints = ["http://127.0.0.1:2379", "http://[::1]:2379", "http://localhost:2379"];
    const { value, problems } = await parse({
      endpoints,
      auth: { username: "lb", passwordFile: "password" },
    });
    expect({ auth: value.auth, problems }).toEqual({
      auth: { username: "lb", password: "s3cret" },
      problems: [],
    });
  });

  it("refuses tls and auth over http://, and a mix of schemes", async () => {
    const endpoints = ["http://10.0.0.1:2379", "http://127.0.0.1:2379"];
    expect(
      (await parse({ endpoints, tls: { ca: "ca.crt" }, auth: { username: "lb", passwordFile: "password" } }))
        .problems,
    ).toEqual([
      "sources[1].etcd.tls: is set but http://10.0.0.1:2379, http://127.0.0.1:2379 is plain text: use https://",
      "sources[1].etcd.auth: would send the password in clear to http://10.0.0.1:2379: use https:// (plain http:// only on loopback)",
    ]);
    expect((await parse({ endpoints: ["http://10.0.0.1:2379", ...HTTPS] })).problems).toEqual([
      "sources[1].etcd.endpoints: mixes http:// and https://: give every member the same scheme",
    ]);
  });

  it("names the key and the fix of every bad file at once", async () => {
    const other = join(dir, "other");
    await mkdir(other, { recursive: true });
    await copyFile(pki.stranger.key, join(other, "stranger.key"));
    expect(
      (
        await parse({
          endpoints: HTTPS,
          tls: { ca: "missing.crt", cert: "not-pem", key: "other/stranger.key" },
        })
      ).problems,
    ).toEqual([
      `sources[1].etcd.tls.ca: cannot read ${dir}/missing.crt (ENOENT): give a file this user can read`,
      `sources[1].etcd.tls.cert: ${dir}/not-pem is not a PEM certificate (-----BEGIN CERTIFICATE-----): convert it with openssl x509`,
    ]);
    expect(
      (await parse({ endpoints: HTTPS, tls: { cert: "lbwatch-client.crt", key: "ca.crt" } })).problems,
    ).toEqual([
      `sources[1].etcd.tls.key: ${dir}/ca.crt is not a PEM private key (-----BEGIN PRIVATE KEY-----)`,
    ]);
    expect(
      (await parse({ endpoints: HTTPS, tls: { cert: "lbwatch-client.crt", key: "other/stranger.key" } }))
        .problems,
    ).toEqual([
      `sources[1].etcd.tls.key: ${other}/stranger.key is not the private key of ${dir}/lbwatch-client.crt`,
    ]);
  });

  it("wants a certificate's key and a key's certificate", async () => {
    expect((await parse({ endpoints: HTTPS, tls: { cert: "lbwatch-client.crt" } })).problems).toEqual([
      "sources[1].etcd.tls.key: is required with cert: a client certificate needs its private key and the key its certificate",
    ]);
    expect((await parse({ endpoints: HTTPS, tls: { key: "lbwatch-client.key", ca: 3 } })).problems).toEqual([
      "sources[1].etcd.tls.ca: 3 is not a file path",
      "sources[1].etcd.tls.cert: is required with key: a client certificate needs its private key and the key its certificate",
    ]);
  });

  it("refuses an inline password, a password file others can read, an empty one, and no user name", async () => {
    const problems = async (auth: unknown) => (await parse({ endpoints: HTTPS, auth })).problems;
    expect(await problems({ username: "lb", password: "s3cret" })).toEqual([
      "sources[1].etcd.auth.password: unknown key; known keys: username, passwordFile",
      "sources[1].etcd.auth.passwordFile: is required",
    ]);
    expect(await problems({ username: "lb", passwordFile: "open-password" })).toEqual([
      `sources[1].etcd.auth.passwordFile: ${dir}/open-password is open to group or others (mode 0640): chmod 600 it`,
    ]);
    expect(await problems({ passwordFile: "empty-password" })).toEqual([
      "sources[1].etcd.auth.username: is required: the etcd user lbwatch logs in as",
      `sources[1].etcd.auth.passwordFile: ${dir}/empty-password is empty: write the etcd user's password in it`,
    ]);
  });

  it("reports the key path of run's sources and of the agent's etcd, relative to each config file", async () => {
    const run = join(dir, "lbwatch.yaml");
    await writeFile(
      run,
      `sources:\n  - local: {}\n  - etcd: { endpoints: ${JSON.stringify(HTTPS)}, tls: { cert: lbwatch-client.crt, key: nope.key } }\n`,
    );
    const agent = join(dir, "agent.yaml");
    await writeFile(
      agent,
      `advertiseAddress: 10.0.0.3\netcd: { endpoints: ${JSON.stringify(HTTPS)}, auth: { username: lb, passwordFile: open-password } }\nservices: { web: { ports: [8000] } }\n`,
    );
    const message = (p: Promise<unknown>) =>
      p.then(String, (err: LbwatchError) => `${err.code}\n${err.message}`);
    expect((await message(loadConfig(run))).split("\n").slice(-1)).toEqual([
      `sources[1].etcd.tls.key: cannot read ${dir}/nope.key (ENOENT): give a file this user can read`,
    ]);
    expect(await message(loadAgentConfig(agent))).toBe(
      `E_CONFIG\netcd.auth.passwordFile: ${dir}/open-password is open to group or others (mode 0640): chmod 600 it`,
    );
  });
});
