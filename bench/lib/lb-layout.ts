/**
 * Where a contender run puts things: ports (one random block below the ephemeral range, checked free),
 * the addresses of the idle and churning listeners, and the files in its scratch directory. Every
 * contender of a scenario gets the same layout, so they face the same backends.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type HaproxyPaths, haproxyPaths } from "./haproxy.js";

export interface Layout {
  dir: string;
  haproxy: HaproxyPaths;
  lbwatchConfig: string;
  /** HAProxy's one frontend; the Host header (web, probe, ...) picks the backend. */
  frontend: number;
  /** Backends restarted under load. */
  webPorts: number[];
  /** One fresh port per routing trial; pre-declared as servers for the health-check contenders. */
  probePorts: number[];
  /** The "churn" service: listeners that come and go on another service while trials run. */
  churnPort: number;
  /** One port per idle service ("idle0", "idle1", ...), IDLE_PER_SERVICE listeners each. */
  idlePorts: number[];
  /** Idle listeners, all routed before the trials. */
  idleCount: number;
  /** Idle listeners per idle service (IDLE_PER_SERVICE unless a benchmark wants one big backend). */
  idlePerService: number;
}

/** The churn helper cycles through this many addresses (127.79.x.y): at most ~50 listen at once. */
export const CHURN_POOL = 200;
/**
 * HAProxy 2.6 parses and adds the servers of one backend in O(n²) (20,000 servers in one backend:
 * `haproxy -c` takes 11 s; 100,000: 6 minutes), so idle listeners are spread over services of 1,000.
 */
export const IDLE_PER_SERVICE = 1000;
const FIXED_PORTS = 10;

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

export async function makeLayout(
  dir: string,
  probeTrials: number,
  idleCount = 0,
  idlePerService = IDLE_PER_SERVICE,
): Promise<Layout> {
  const idleServices = Math.ceil(idleCount / idlePerService);
  const base = await freePortBlock(FIXED_PORTS + probeTrials + idleServices);
  const probeBase = base + FIXED_PORTS;
  const idleBase = probeBase + probeTrials;
  return {
    dir,
    haproxy: haproxyPaths(dir),
    lbwatchConfig: join(dir, "lbwatch.yaml"),
    frontend: base,
    churnPort: base + 2,
    webPorts: [3, 4, 5, 6, 7].map((i) => base + i),
    probePorts: Array.from({ length: probeTrials }, (_, i) => probeBase + i),
    idlePorts: Array.from({ length: idleServices }, (_, i) => idleBase + i),
    idleCount,
    idlePerService,
  };
}

/** Idle listener i: one port per idle service, the same addresses (127.77.x.y up) in each. */
export function idleEndpoint(layout: Layout, i: number): { address: string; port: number } {
  const j = i % layout.idlePerService;
  return {
    address: `127.${77 + Math.floor(j / 62_500)}.${Math.floor(j / 250) % 250}.${(j % 250) + 1}`,
    port: layout.idlePorts[Math.floor(i / layout.idlePerService)] as number,
  };
}

/** The idle service listener i belongs to. */
export const idleServiceOf = (layout: Layout, i: number) =>
  idleService(Math.floor(i / layout.idlePerService));

/** Churn slot i, as bench-helper's churn mode binds it. */
export function churnAddress(i: number): string {
  return `127.79.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export const idleService = (group: number) => `idle${group}`;
