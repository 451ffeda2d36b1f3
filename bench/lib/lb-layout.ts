/**
 * Where a contender run puts things: ports (one random block below the ephemeral range, checked free),
 * the idle listeners' addresses, and the files in its scratch directory. Every contender of a run
 * gets the same layout, so they face the same backends.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type HaproxyPaths, haproxyPaths } from "./haproxy.js";

export interface Layout {
  dir: string;
  haproxy: HaproxyPaths;
  lbwatchConfig: string;
  /** HAProxy's one frontend; the Host header (web, probe) picks the backend. */
  frontend: number;
  /** Backends restarted under load. */
  webPorts: number[];
  /** One fresh port per routing trial; pre-declared as servers for the health-check contenders. */
  probePorts: number[];
  idlePort: number;
}

const BLOCK = 100;

async function listeningPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(f, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === "0A" && local) ports.add(Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16));
    }
  }
  return ports;
}

/** A free block of ports in 20000..32699, under the default ephemeral range (32768+). */
export async function freePortBlock(size: number): Promise<number> {
  const busy = await listeningPorts();
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * ((32_700 - 20_000 - size) / 10)) * 10;
    let free = true;
    for (let p = base; p < base + size && free; p++) free = !busy.has(p);
    if (free) return base;
  }
  throw new Error("no free block of ports in 20000..32699");
}

export async function makeLayout(dir: string, probeTrials: number): Promise<Layout> {
  if (probeTrials + 8 > BLOCK) throw new RangeError(`at most ${BLOCK - 8} probe trials per run`);
  const base = await freePortBlock(BLOCK);
  return {
    dir,
    haproxy: haproxyPaths(dir),
    lbwatchConfig: join(dir, "lbwatch.yaml"),
    frontend: base,
    idlePort: base + 2,
    webPorts: [3, 4, 5, 6, 7].map((i) => base + i),
    probePorts: Array.from({ length: probeTrials }, (_, i) => base + 8 + i),
  };
}

/** Idle listener i binds 127.77.x.y:idlePort, so 10,000 of them need one port and no ephemeral ones. */
export function idleAddress(i: number): string {
  return `127.77.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}
