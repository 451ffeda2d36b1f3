import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CgroupPaths, parseProcCgroup, readCgroupPath } from "../../src/registry/cgroup-path.js";
import { listener } from "./fakes.js";

describe("parseProcCgroup", () => {
  it("takes the cgroup v2 line and ignores v1 controllers", () => {
    expect(parseProcCgroup("12:cpu,cpuacct:/legacy\n0::/system.slice/web.service\n")).toBe(
      "/system.slice/web.service",
    );
    expect(parseProcCgroup("12:cpu:/legacy\n")).toBeUndefined();
  });
});

describe("readCgroupPath", () => {
  it("reads this process's own cgroup v2 path", async () => {
    const own = parseProcCgroup(await readFile("/proc/self/cgroup", "utf8"));
    expect(await readCgroupPath(process.pid)).toBe(own);
  });

  it("gives undefined for a process that does not exist", async () => {
    expect(await readCgroupPath(2 ** 22 + 1)).toBeUndefined();
  });
});

describe("CgroupPaths", () => {
  it("reads a cgroup id's path once, but never caches the unknown id 0", async () => {
    const reads: number[] = [];
    const paths = new CgroupPaths(async (pid) => {
      reads.push(pid);
      return `/pid${pid}`;
    });
    const results = [
      await paths.of(listener({ pid: 1, cgroupId: 9n })),
      await paths.of(listener({ pid: 2, cgroupId: 9n })),
      await paths.of(listener({ pid: 3, cgroupId: 0n })),
      await paths.of(listener({ pid: 4, cgroupId: 0n })),
    ];
    expect([results, reads]).toEqual([
      ["/pid1", "/pid1", "/pid3", "/pid4"],
      [1, 3, 4],
    ]);
  });
});
