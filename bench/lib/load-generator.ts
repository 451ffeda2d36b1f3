/**
 * Steady, bounded HTTP load: request i leaves at start + i/rate whatever happened to the previous
 * ones (an open loop, like real clients), each on a fresh connection, each with a timeout. Counts
 * what a client would see: a non-200 status, a reset or a timeout is a failed request.
 */
import http from "node:http";

export interface LoadOptions {
  host?: string;
  port: number;
  /** Host header: picks the backend in lbwatch's HAProxy template. */
  hostHeader?: string;
  ratePerSec: number;
  /** Hard bound: no request leaves after this. */
  maxDurationMs: number;
  timeoutMs?: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Failure kinds: "status 503", "ECONNRESET", "timeout". */
  failures: Record<string, number>;
  /** Monotonic ms (process.hrtime) of each failure, to line them up with restarts, and its kind. */
  failureTimesMs: number[];
  failureKinds: string[];
}

export interface Load {
  stop(): Promise<LoadResult>;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function startLoad(options: LoadOptions): Load {
  const result: LoadResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    failures: {},
    failureTimesMs: [],
    failureKinds: [],
  };
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const inflight = new Set<Promise<void>>();
  const start = nowMs();
  const interval = 1000 / options.ratePerSec;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const fail = (kind: string) => {
    result.failed++;
    result.failures[kind] = (result.failures[kind] ?? 0) + 1;
    result.failureTimesMs.push(nowMs());
    result.failureKinds.push(kind);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get(
        {
          host: options.host ?? "127.0.0.1",
          port: options.port,
          path: "/",
          agent,
          timeout: options.timeoutMs ?? 3000,
          ...(options.hostHeader ? { headers: { host: options.hostHeader } } : {}),
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode === 200) result.ok++;
            else fail(`status ${res.statusCode}`);
            resolve();
          });
          res.on("error", () => {
            fail("response error");
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message);
        resolve();
      });
    });

  const tick = () => {
    if (stopped) return;
    const elapsed = nowMs() - start;
    if (elapsed > options.maxDurationMs) {
      stopped = true;
      return;
    }
    while (result.sent * interval <= elapsed) {
      result.sent++;
      const p = one().finally(() => inflight.delete(p));
      inflight.add(p);
    }
    timer = setTimeout(tick, Math.max(1, result.sent * interval - elapsed));
  };
  tick();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(inflight);
      agent.destroy();
      return result;
    },
  };
}
