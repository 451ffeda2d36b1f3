import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { startListenerProcess } from "../helpers/listener-process.js";
import { createWorkspace, lbwatchBin, portBlock } from "./lbwatch-process.js";

const RECORD = new URL("../fixtures/imports/register.mjs", import.meta.url).href;

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

/** The packages a `lbwatch run --once` of a local-only config without http.listen resolves. */
async function packagesOfRun(): Promise<Set<string>> {
  const base = portBlock(11);
  const ws = await createWorkspace({ ports: `${base}-${base + 99}` });
  cleanups.push(() => ws.remove());
  const listener = await startListenerProcess({ addr: "127.0.0.1", port: base + 1, backlog: 8 });
  cleanups.push(() => listener.stop());
  const log = `${ws.dir}/imports.log`;
  const result = await execa(
    process.execPath,
    ["--import", RECORD, lbwatchBin, "run", "--once", "-c", ws.config],
    {
      reject: false,
      timeout: 30_000,
      env: { LBWATCH_IMPORTS_LOG: log },
    },
  );
  expect(result.exitCode).toBe(0);
  const urls = (await readFile(log, "utf8")).split("\n");
  return new Set(
    urls.map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]).filter((p) => p !== undefined),
  );
}

describe("lbwatch run start-up", () => {
  it("imports neither etcd3, execa, prom-client nor diff when the config and flags do not use them", async () => {
    const packages = await packagesOfRun();
    expect(packages.has("handlebars")).toBe(true);
    expect(["etcd3", "@grpc/grpc-js", "execa", "prom-client", "diff"].filter((p) => packages.has(p))).toEqual(
      [],
    );
  });
});
