import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hostNetnsInode,
  netnsAddresses,
  netnsInodeOfPath,
  netnsOfPid,
  parseFibTrieLocal,
  parseIfInet6,
} from "../../src/probe/netns.js";
import { createTestNetns, type TestNetns, untilInOtherNetns } from "../helpers/netns.js";

const fixture = (name: string) => readFile(new URL(`../fixtures/${name}`, import.meta.url), "latin1");

describe("parseFibTrieLocal", () => {
  it("keeps each non-loopback /32 host LOCAL leaf once", async () => {
    expect(parseFibTrieLocal(await fixture("fib_trie.txt"))).toEqual(["10.9.8.1", "192.168.7.20"]);
  });
});

describe("parseIfInet6", () => {
  it("keeps global addresses, on any device, and drops host and link scope", async () => {
    expect(parseIfInet6(await fixture("if_inet6.txt"))).toEqual(["fd00:9::1", "2001:db8::abc"]);
  });
});

describe("netns of the test's own namespace", () => {
  const octet = 1 + (process.pid % 250);
  let ns: TestNetns;
  let pid: number;
  beforeAll(async () => {
    ns = await createTestNetns("s", [`10.${octet}.3.1/24`, `fd00:${octet.toString(16)}::1/64`]);
    const child = ns.spawn(["sleep", "30"]);
    pid = child.pid ?? 0;
    await untilInOtherNetns(pid);
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  it("names a process's namespace by the same inode as /run/netns/NAME, distinct from the host's", async () => {
    const inode = await netnsOfPid(pid);
    expect(inode).toBe(await netnsInodeOfPath(ns.path));
    expect(inode).not.toBe(hostNetnsInode());
    expect(await netnsOfPid("self")).toBe(hostNetnsInode());
  });

  it("lists the namespace's own interface addresses and nothing from the host", async () => {
    expect(await netnsAddresses(pid)).toEqual({
      v4: [`10.${octet}.3.1`],
      v6: [`fd00:${octet.toString(16)}::1`],
    });
  });

  it("throws E_PROC naming the path for a missing namespace file", async () => {
    await expect(netnsInodeOfPath(`/run/netns/lbw-missing-${process.pid}`)).rejects.toMatchObject({
      code: "E_PROC",
      message: `/run/netns/lbw-missing-${process.pid}: ENOENT: no such file or directory, stat '/run/netns/lbw-missing-${process.pid}' (name an existing namespace file, e.g. /run/netns/NAME from \`ip netns list\`)`,
    });
  });
});
