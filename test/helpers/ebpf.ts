/**
 * For tests that need the kernel probe. describeEbpf() opens a probe once per test file: if that
 * fails the block is skipped, or, with LBWATCH_REQUIRE_EBPF=1 (CI), replaced by a failing test that
 * shows why. EventRecorder collects a probe's events and waits for the ones a test expects.
 */
import { readFile, stat } from "node:fs/promises";
import { describe, it } from "vitest";
import type { ListenEvent } from "../../src/probe/event.js";
import { ListenProbe } from "../../src/probe/listen-probe.js";

let unavailable: Error | null | undefined;

/** Why the probe cannot load on this machine, or undefined when it can. */
export function ebpfUnavailable(): Error | undefined {
  if (unavailable === undefined) {
    try {
      ListenProbe.open().close();
      unavailable = null;
    } catch (err) {
      unavailable = err as Error;
    }
  }
  return unavailable ?? undefined;
}

export function describeEbpf(name: string, fn: () => void): void {
  const failure = ebpfUnavailable();
  if (failure && process.env.LBWATCH_REQUIRE_EBPF === "1") {
    describe(name, () => {
      it("loads the eBPF probe (LBWATCH_REQUIRE_EBPF=1: failing instead of skipping)", () => {
        throw failure;
      });
    });
    return;
  }
  describe.skipIf(failure !== undefined)(name, fn);
}

interface Waiter {
  match: (ev: ListenEvent) => boolean;
  count: number;
  resolve: (events: ListenEvent[]) => void;
}

/** Records every event of a probe; the machine is shared, so tests pick theirs by pid or sock. */
export class EventRecorder {
  readonly events: ListenEvent[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(probe: ListenProbe) {
    probe.on("event", (ev) => {
      this.events.push(ev);
      for (const w of this.waiters) this.settle(w);
    });
  }

  /** The events matching `match`, once there are `count` of them (more may follow); rejects after `timeoutMs`. */
  waitFor(match: (ev: ListenEvent) => boolean, count = 1, timeoutMs = 5_000): Promise<ListenEvent[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} events; got ${this.matching(match).length}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        count,
        resolve: (events) => {
          clearTimeout(timer);
          resolve(events);
        },
      };
      this.waiters.add(waiter);
      this.settle(waiter);
    });
  }

  matching(match: (ev: ListenEvent) => boolean): ListenEvent[] {
    return this.events.filter(match);
  }

  private settle(w: Waiter): void {
    const found = this.matching(w.match);
    if (found.length < w.count) return;
    this.waiters.delete(w);
    w.resolve(found);
  }
}

/** The cgroup v2 id events carry for `pid`: the inode of its cgroup directory (0 without cgroup v2). */
export async function cgroupIdOf(pid: number): Promise<bigint> {
  const line = (await readFile(`/proc/${pid}/cgroup`, "utf8")).split("\n").find((l) => l.startsWith("0::"));
  const mount = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .find((l) => l.split(" ")[2] === "cgroup2");
  if (!line || !mount) return 0n;
  return (await stat(`${mount.split(" ")[1]}${line.slice(3)}`, { bigint: true })).ino;
}
