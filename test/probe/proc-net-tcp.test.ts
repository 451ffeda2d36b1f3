import { readdir, readFile, readlink } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LbwatchError } from "../../src/errors.js";
import { parseProcNetTcp, readProcNetTcp } from "../../src/probe/proc-net-tcp.js";

const fixture = (name: string) => readFile(new URL(`../fixtures/${name}`, import.meta.url), "latin1");

describe("parseProcNetTcp", () => {
  it("decodes IPv4 rows: host-endian address words, hex port, state, queues, uid and inode", async () => {
    expect(parseProcNetTcp(await fixture("proc-net-tcp.txt"), 4)).toEqual([
      { family: 4, addr: "0.0.0.0", port: 8080, state: 0x0a, uid: 0, inode: 1001, txQueue: 0, rxQueue: 3 },
      {
        family: 4,
        addr: "127.0.0.1",
        port: 5432,
        state: 0x0a,
        uid: 105,
        inode: 1002,
        txQueue: 0,
        rxQueue: 0,
      },
      {
        family: 4,
        addr: "10.1.2.3",
        port: 443,
        state: 0x01,
        uid: 1000,
        inode: 1003,
        txQueue: 42,
        rxQueue: 16,
      },
    ]);
  });

  it("decodes IPv6 rows including ::, ::1, IPv4-mapped, link-local and global addresses", async () => {
    const row = (addr: string, port: number, state: number, uid: number, inode: number) => ({
      family: 6,
      addr,
      port,
      state,
      uid,
      inode,
      txQueue: 0,
      rxQueue: 0,
    });
    expect(parseProcNetTcp(await fixture("proc-net-tcp6.txt"), 6)).toEqual([
      row("::", 8443, 0x0a, 0, 2001),
      row("::1", 53, 0x0a, 0, 2002),
      row("::ffff:127.0.0.1", 9000, 0x0a, 33, 2003),
      row("fe80::1", 8081, 0x0a, 0, 2004),
      row("2001:db8::1", 80, 0x01, 0, 2005),
      row("2001:db8::1:cab", 81, 0x0a, 0, 2006),
    ]);
  });

  it("returns no rows for a header-only table", () => {
    expect(parseProcNetTcp("  sl  local_address rem_address   st\n", 4)).toEqual([]);
  });

  it("rejects a row of the wrong family with an E_PROC error naming the line", async () => {
    const text = await fixture("proc-net-tcp.txt");
    expect(() => parseProcNetTcp(text, 6)).toThrow(
      new LbwatchError("E_PROC", `/proc/net/tcp6 line 2: unexpected format: ${text.split("\n")[1]?.trim()}`),
    );
  });
});

describe("readProcNetTcp", () => {
  const servers: Server[] = [];
  const listen = (host: string) =>
    new Promise<Server>((resolve) => {
      const s = createServer();
      servers.push(s);
      s.listen({ host, port: 0, backlog: 17 }, () => resolve(s));
    });
  const portOf = (s: Server) => (s.address() as { port: number }).port;
  const socketInodes = async () => {
    const inodes = new Set<number>();
    for (const fd of await readdir("/proc/self/fd")) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/self/fd/${fd}`).catch(() => ""));
      if (m) inodes.add(Number(m[1]));
    }
    return inodes;
  };
  let v4: Server;
  let v6: Server;
  beforeAll(async () => {
    v4 = await listen("127.0.0.1");
    v6 = await listen("::1");
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it("finds this process's IPv4 and IPv6 listeners with inodes that match its fds", async () => {
    const rows = await readProcNetTcp("self", { listenOnly: true });
    const mine = await socketInodes();
    const found = rows.filter((r) => mine.has(r.inode)).map(({ inode: _, ...r }) => r);
    expect(found).toEqual(
      expect.arrayContaining([
        { family: 4, addr: "127.0.0.1", port: portOf(v4), state: 0x0a, uid: 0, txQueue: 0, rxQueue: 0 },
        { family: 6, addr: "::1", port: portOf(v6), state: 0x0a, uid: 0, txQueue: 0, rxQueue: 0 },
      ]),
    );
    expect(rows.every((r) => r.state === 0x0a)).toBe(true);
  });

  it("reads by pid the same netns as self", async () => {
    const byPid = await readProcNetTcp(process.pid, { listenOnly: true });
    expect(byPid.map((r) => r.inode).sort()).toEqual(
      (await readProcNetTcp("self", { listenOnly: true })).map((r) => r.inode).sort(),
    );
  });

  it("throws E_PROC naming the path when the process does not exist", async () => {
    await expect(readProcNetTcp(2 ** 22 + 1)).rejects.toMatchObject({
      code: "E_PROC",
      message: expect.stringMatching(/^\/proc\/4194305\/net\/tcp: ENOENT/),
    });
  });
});
