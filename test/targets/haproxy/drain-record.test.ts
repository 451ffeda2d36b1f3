import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { DrainRecord } from "../../../src/targets/haproxy/drain-record.js";

let dir: string;
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("DrainRecord", () => {
  it("keeps the newest of many saves, coalesced, beside dest", async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-drain-record-"));
    const record = new DrainRecord(join(dir, "haproxy.cfg"), pino({ level: "silent" }));
    expect(await record.read()).toEqual(new Set());
    for (let i = 0; i < 50; i++) record.save(() => [`be_web/s${i}`, `be_web/s${i + 1}`]);
    await record.flushed();
    expect(await record.read()).toEqual(new Set(["be_web/s49", "be_web/s50"]));
    expect(await readdir(dir)).toEqual([".haproxy.cfg.lbwatch-draining"]);
    record.save(() => []);
    await record.flushed();
    expect(await record.read()).toEqual(new Set());
  });

  it("reads a damaged record as nothing being deleted", async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-drain-record-"));
    const record = new DrainRecord(join(dir, "haproxy.cfg"), pino({ level: "silent" }));
    for (const text of ["{not json", '{"be_web/a": 1}', '["be_web/a", 3, null]']) {
      await writeFile(join(dir, ".haproxy.cfg.lbwatch-draining"), text);
      expect([...(await record.read())]).toEqual(text.startsWith("[") ? ["be_web/a"] : []);
    }
  });
});
