import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLbwatchError } from "../../../src/errors.js";
import { MasterCli, parseShowProc } from "../../../src/targets/haproxy/master-cli.js";
import { minimalConfig, type RunningHaproxy, startHaproxy } from "../../helpers/haproxy.js";
import { get } from "../../helpers/http.js";

const config = (status: number) => minimalConfig(`http-request return status ${status}`);

describe("parseShowProc", () => {
  it("reads the master's reload counters and the current and old workers", () => {
    const answer = [
      "#<PID>          <type>          <reloads>       <uptime>        <version>",
      "1162            master          5 [failed: 1]   0d00h02m07s     2.6.12",
      "# workers",
      "1271            worker          0               0d00h00m00s     2.6.12",
      "# old workers",
      "1233            worker          3               0d00h00m43s     2.6.12",
      "# programs",
      "",
    ].join("\n");
    expect(parseShowProc(answer)).toEqual({
      master: { pid: 1162, reloads: 5, failedReloads: 1 },
      workers: [1271],
      oldWorkers: [1233],
    });
  });
});

describe("MasterCli against a real HAProxy 2.6", () => {
  let haproxy: RunningHaproxy;
  let master: MasterCli;

  beforeAll(async () => {
    haproxy = await startHaproxy(config(201));
    master = new MasterCli(haproxy.masterSocket);
  });
  afterAll(async () => {
    await haproxy?.stop();
  });

  it("lists the master and its one worker", async () => {
    const table = await master.showProc();
    expect({ master: table.master.pid, workers: table.workers.length, old: table.oldWorkers }).toEqual({
      master: haproxy.pid,
      workers: 1,
      old: [],
    });
  });

  it("reloads the config and resolves once a new worker serves it", async () => {
    const before = await master.showProc();
    await writeFile(haproxy.cfg, config(202));
    const after = await master.reload();
    expect(after.master.reloads).toBe(before.master.reloads + 1);
    expect(after.workers).not.toEqual(before.workers);
    expect((await get(haproxy.port)).status).toBe(202);
  });

  it("rejects with E_RELOAD_FAILED when HAProxy refuses the config, and the old worker keeps serving", async () => {
    await writeFile(haproxy.cfg, `${config(203)}    no-such-keyword\n`);
    const err = await master.reload().catch((e: unknown) => e);
    expect(isLbwatchError(err, "E_RELOAD_FAILED") && err.message).toBe(
      `${haproxy.masterSocket}: HAProxy refused the new config on reload and keeps the old one (run "haproxy -c -f <config>" to see why)`,
    );
    expect((await get(haproxy.port)).status).toBe(202);
  });
});
