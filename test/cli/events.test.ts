import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { netnsInodeOfPath } from "../../src/probe/netns.js";
import {
  BIN,
  collect,
  ensureBuilt,
  listenUntilSeen,
  loopbackListenerEvents,
  spawnCli,
} from "../helpers/cli.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { startListenerProcess } from "../helpers/listener-process.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";

describeEbpf("lbwatch events", () => {
  let ns: TestNetns;
  beforeAll(async () => {
    await ensureBuilt();
    ns = await createTestNetns("cli-ev");
  }, 120_000);
  afterAll(async () => {
    await ns?.destroy();
  });

  it("--json prints the listen and close of a listener the test opens, only for --port, and exits 0 on SIGINT", async () => {
    const port = 20000 + (process.pid % 10000);
    const cli = spawnCli(["events", "--json", "--port", String(port)]);
    const output = collect(cli);
    const { seen, lines } = await listenUntilSeen(output, () =>
      startListenerProcess({ addr: "127.0.0.1", port, backlog: 7 }),
    );
    cli.kill("SIGINT");
    const r = await cli;
    const events = lines.map((l) => JSON.parse(l) as { port: number; sock: number });
    expect(events.every((e) => e.port === port)).toBe(true);
    expect(events.filter((e) => e.sock === seen.sock)).toEqual(await loopbackListenerEvents(seen, 7));
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
  });

  it("prints a table row for a listener in a namespace chosen by --netns, and exits 0 on SIGTERM", async () => {
    const netns = await netnsInodeOfPath(ns.path);
    const cli = spawnCli(["events", "--netns", ns.path]);
    const output = collect(cli);
    const { seen, lines } = await listenUntilSeen(output, () =>
      startListenerProcess({ addr: "::", port: 8443, backlog: 3, netns: ns }),
    );
    cli.kill("SIGTERM");
    const r = await cli;
    expect(lines[0]?.split(/\s+/)).toEqual([
      "TIME",
      "EVENT",
      "PID",
      "COMM",
      "NETNS",
      "PROTO",
      "BACKLOG",
      "ADDR",
      "PORT",
      "SOCK",
    ]);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    expect(rows.every((cells) => cells[4] === String(netns))).toBe(true);
    expect(rows.filter((cells) => cells[9] === String(seen.sock)).map((cells) => cells.slice(1))).toEqual([
      ["LISTEN", String(seen.pid), "python3", String(netns), "TCPv6", "3", "::", "8443", String(seen.sock)],
      ["CLOSE", String(seen.pid), "python3", String(netns), "TCPv6", "3", "::", "8443", String(seen.sock)],
    ]);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
  });

  it("fails with one line and exit status 1 when it may not load BPF", async () => {
    const nobody = [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
    ];
    const r = await execa("setpriv", [...nobody, BIN, "events"], { reject: false, timeout: 20_000 });
    expect({ exitCode: r.exitCode, stdout: r.stdout, lines: r.stderr.split("\n").length }).toEqual({
      exitCode: 1,
      stdout: "",
      lines: 1,
    });
    expect(r.stderr).toMatch(/^lbwatch: E_BPF_PERM: .*root.*CAP_BPF/);
  });
});
