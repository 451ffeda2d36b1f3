/** A source the test drives by hand: the controller's live behaviour without eBPF. */
import type { Config } from "../../src/config/types.js";
import type { BackendClaim, Source, SourceSink, SourceStatus } from "../../src/sources/source.js";

export function claimAt(port: number, fields: Partial<BackendClaim> = {}): BackendClaim {
  return {
    key: String(port),
    service: "web",
    family: 4,
    address: "127.0.0.1",
    port,
    host: "h1",
    pid: 10,
    comm: "srv",
    uid: 0,
    netns: 1,
    backlog: 128,
    since: 0,
    ...fields,
  };
}

export class FakeSource implements Source {
  readonly id: string;
  readonly kind = "fake";
  sink: SourceSink | undefined;
  resyncs = 0;
  readonly #initial: BackendClaim[];
  readonly #silent: boolean;

  /** `silent`: start() delivers nothing, as an etcd source that cannot list yet; deliver() later. */
  constructor(initial: BackendClaim[] = [], options: { id?: string; silent?: boolean } = {}) {
    this.#initial = initial;
    this.id = options.id ?? "fake";
    this.#silent = options.silent ?? false;
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    if (!this.#silent) sink.replace(this.#initial, { reason: "initial" });
  }

  /** A full view, late (a silent source's first). */
  deliver(claims: BackendClaim[]): void {
    this.sink?.replace(claims, { reason: "reconnect" });
  }

  async resync(): Promise<void> {
    this.resyncs++;
  }

  async reconfigure(_config: Config): Promise<void> {}

  async close(): Promise<void> {}

  status(): SourceStatus {
    return { id: this.id, kind: this.kind, state: "ok" };
  }

  listen(port: number, fields: Partial<BackendClaim> = {}): void {
    this.sink?.update([claimAt(port, fields)], [], process.hrtime.bigint());
  }

  withdraw(port: number): void {
    this.sink?.update([], [String(port)], process.hrtime.bigint());
  }
}
