import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "../helpers/cli.js";

beforeAll(ensureBuilt, 120_000);

describe("lbwatch agent", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-agent-cli-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exits 2 listing every problem of its config, one line each", async () => {
    const file = join(dir, "agent.yaml");
    await writeFile(
      file,
      "advertiseAddress: 0.0.0.0\netcd: { endpoints: [http://10.0.0.1:2379], ttl: 10 }\nservices: { web: {} }\n",
    );
    const r = await runCli(["agent", "-c", file]);
    expect({ exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout }).toEqual({
      exitCode: 2,
      stderr: [
        "lbwatch: E_CONFIG: advertiseAddress: 0.0.0.0 is unspecified: other hosts cannot reach it there",
        "etcd.ttl: 10 is not a duration such as 20ms, 1s or 1m (add a unit: 10ms or 10s)",
        "services.web.ports: required for an agent: the ports it publishes",
      ].join("\n"),
      stdout: "",
    });
  });

  it("is listed in the help", async () => {
    const r = await runCli(["--help"]);
    expect(r.stdout).toMatch(/\n {2}agent \[options\] +publish this host's listeners/);
  });
});
