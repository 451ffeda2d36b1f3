import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsInodeOfPath, netnsOfPid } from "../../src/probe/netns.js";
import { ensureBuilt, runCli } from "../helpers/cli.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";

describe("lbwatch ls", () => {
  let ns: TestNetns;
  let host: ListenerProcess;
  let inNs: ListenerProcess;
  let hostNetns: number;
  let nsInode: number;

  beforeAll(async () => {
    await ensureBuilt();
    ns = await createTestNetns("cli-ls");
    [host, inNs] = await Promise.all([
      startListenerProcess({ addr: "::1", backlog: 21 }),
      startListenerProcess({ addr: "127.0.0.1", port: 9000, backlog: 12, netns: ns }),
    ]);
    hostNetns = await netnsOfPid("self");
    nsInode = await netnsInodeOfPath(ns.path);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([host?.stop(), inNs?.stop()]);
    await ns?.destroy();
  });

  it("--json prints one array that includes listeners of the host and of a test namespace", async () => {
    const r = await runCli(["ls", "--json"]);
    expect(r.exitCode).toBe(0);
    const all = JSON.parse(r.stdout) as { sock: number }[];
    const comm = "python3";
    expect(all.find((l) => l.sock === host.sock)).toEqual({
      pid: host.pid,
      comm,
      uid: 0,
      netns: hostNetns,
      family: 6,
      addr: "::1",
      port: host.port,
      backlog: 21,
      sock: host.sock,
    });
    expect(all.find((l) => l.sock === inNs.sock)).toEqual({
      pid: inNs.pid,
      comm,
      uid: 0,
      netns: nsInode,
      family: 4,
      addr: "127.0.0.1",
      port: 9000,
      backlog: 12,
      sock: inNs.sock,
    });
  });

  it("without root, says on stderr how many sockets' owners it could not see", async () => {
    const r = await runCli(["ls", "--json"], { asUser: 65534 });
    const rows = JSON.parse(r.stdout) as { pid: number; sock: number }[];
    const hidden = rows.filter((l) => l.pid === 0).length;
    // The test's own root listener is one of them.
    expect(rows.find((l) => l.sock === host.sock)?.pid).toBe(0);
    expect([r.exitCode, r.stderr]).toEqual([
      0,
      `lbwatch: the owning process of ${hidden} socket(s) could not be seen: pid - (run as root to see every process)`,
    ]);
  });

  it("filters by namespace path and port, and prints a table", async () => {
    const r = await runCli(["ls", "--netns", ns.path, "--port", "8000-9000"]);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(r.stdout.split("\n").map((l) => l.split(/\s+/).filter(Boolean))).toEqual([
      ["NETNS", "PROTO", "LOCAL", "ADDRESS:PORT", "BACKLOG", "PID", "COMM", "UID", "SOCK"],
      [String(nsInode), "TCPv4", "127.0.0.1:9000", "12", String(inNs.pid), "python3", "0", String(inNs.sock)],
    ]);
  });
});
