/**
 * In-process stand-ins for the kernel side, for render-scale: claims of N distinct backends, a
 * Source that delivers them and then whatever the benchmark pushes, and an Observer that hands each
 * finished apply to whoever waits for it. The controller, registry, lists and targets they feed are
 * lbwatch's own.
 */
import type { Observer } from "../../src/controller/observer.js";
import type { BackendClaim, Source, SourceSink, SourceStatus } from "../../src/sources/source.js";
import type { ApplyRecord } from "../../src/targets/target.js";

/** Backend i of service `service`: a distinct loopback address on one port, its own pid and socket. */
export function syntheticClaim(i: number, service: string, port: number): BackendClaim {
  return {
    key: String(1_000_000 + i),
    service,
    family: 4,
    address: `127.${Math.floor(i / 62_500) % 250}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`,
    port,
    host: "bench",
    pid: 100_000 + i,
    comm: "synthetic",
    uid: 1000,
    netns: 4026531840,
    backlog: 128,
    since: Date.now(),
  };
}

export class SyntheticSource implements Source {
  readonly id = "synthetic";
  readonly kind = "synthetic";
  readonly #initial: BackendClaim[];
  #sink: SourceSink | undefined;

  constructor(initial: BackendClaim[]) {
    this.#initial = initial;
  }

  /** Where the benchmark pushes changes once the controller started. */
  get sink(): SourceSink {
    if (!this.#sink) throw new Error("synthetic source not started");
    return this.#sink;
  }

  async start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    sink.replace(this.#initial, { reason: "initial" });
  }

  async resync(): Promise<void> {}
  async reconfigure(): Promise<void> {}
  async close(): Promise<void> {}

  status(): SourceStatus {
    return { id: this.id, kind: this.kind, state: "ok" };
  }
}

/** Counts applies and resolves `next()` with the next one. */
export class ApplyWaiter implements Observer {
  readonly records: ApplyRecord[] = [];
  #waiters: ((r: ApplyRecord) => void)[] = [];

  applied(record: ApplyRecord): void {
    this.records.push(record);
    for (const w of this.#waiters.splice(0)) w(record);
  }

  /** The next apply after this call, or a rejection after timeoutMs. */
  next(timeoutMs: number): Promise<ApplyRecord> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no apply within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  kernelEvent(): void {}
  eventsLost(): void {}
  resynced(): void {}
  configReloaded(): void {}
  templateError(): void {}
}
