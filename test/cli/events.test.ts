import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { netnsInodeOfPath, netnsOfPid } from "../../src/probe/netns.js";
import { BIN, ensureBuilt, spawnCli } from "../helpers/cli.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";

type Cli = ReturnType<typeof spawnCli>;

/** Output collected so far from a running CLI. */
function collect(cli: Cli): () => string {
  let out = "";
  cli.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  return () => out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `events` prints nothing until something happens, so the test cannot see when the probe is attached:
 * it opens listeners one after another until the CLI reports one while it is still open, then closes
 * that one and waits for its close (all bounded).
 */
async function listenUntilSeen(
  output: () => string,
  open: () => Promise<ListenerProcess>,
): Promise<{ seen: ListenerProcess; lines: string[] }> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const p = await open();
    const sock = String(p.sock);
    for (let i = 0; i < 20 && !output().includes(sock); i++) await sleep(25);
    const listenSeen = output().includes(sock);
    await p.stop();
    if (listenSeen) {
      for (let i = 0; i < 40 && output().split(sock).length < 3; i++) await sleep(25);
      return { seen: p, lines: output().trimEnd().split("\n") };
    }
  }
  throw new Error(`lbwatch events reported none of 40 listeners while they listened; output: ${output()}`);
}

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
    const fields = {
      pid: seen.pid,
      comm: "python3",
      uid: 0,
      netns: await netnsOfPid("self"),
      family: 4,
      addr: "127.0.0.1",
      port,
      backlog: 7,
      sock: seen.sock,
    };
    expect(events.filter((e) => e.sock === seen.sock)).toEqual([
      { type: "listen", ...fields, ts: expect.stringMatching(/^\d+$/) },
      { type: "close", ...fields, ts: expect.stringMatching(/^\d+$/) },
    ]);
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
