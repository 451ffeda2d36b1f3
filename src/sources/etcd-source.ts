/**
 * Backends published by agents on other hosts (src/agent/), read from etcd: list `<prefix>/v1/` at one
 * revision and replace, then watch from the next revision and update per watch response. Whatever
 * could have cost an event (the watch cancelled by compaction, a disconnect, an error, a failed probe)
 * ends the watch and starts again with a list and a replace: the registry applies only the differences,
 * so a relist costs nothing downstream and a silent miss is impossible. The client library would resume
 * a broken watch on its own, but from the revision of its last "created" header, which can skip events
 * still in flight; this source never lets it.
 *
 * Fail static: while etcd cannot be reached the source delivers nothing, so the registry keeps the last
 * claims; it retries with jittered backoff and logs once when it goes stale and once when it is back.
 */
import type { Etcd3, IWatchResponse, Watcher } from "etcd3";
import type { Config, EtcdSourceConfig } from "../config/types.js";
import { Backoff } from "../etcd/backoff.js";
import { createEtcdClient, errorText } from "../etcd/client.js";
import { EtcdFailureLog } from "../etcd/failure-log.js";
import { keyLayout } from "../etcd/keys.js";
import { listPrefix } from "../etcd/list-prefix.js";
import type { Logger } from "../log.js";
import { EtcdView } from "./etcd-view.js";
import type {
  ReplaceReason,
  Source,
  SourceContext,
  SourceSink,
  SourceState,
  SourceStatus,
} from "./source.js";

export interface EtcdSourceTuning {
  /** How often a cheap read checks that etcd still answers (and learns its revision), ms. */
  probeMs?: number;
  /** Retry delays after a failed list or watch, ms. */
  retryFirstMs?: number;
  retryMaxMs?: number;
  callTimeoutMs?: number;
  pageSize?: number;
  /** For tests: runs between a listing and its watch, where a watch stopped for a while would be. */
  afterList?: (revision: number) => Promise<void>;
}

const DEFAULTS = {
  probeMs: 5000,
  retryFirstMs: 200,
  retryMaxMs: 2000,
  callTimeoutMs: 5000,
  pageSize: 1000,
  afterList: async (_revision: number) => {},
};

class EtcdSource implements Source {
  readonly id: string;
  readonly kind = "etcd";
  readonly #once: boolean;
  readonly #hostId: string;
  readonly #log: Logger;
  readonly #tuning: typeof DEFAULTS;
  readonly #backoff: Backoff;
  #cfg: EtcdSourceConfig;
  #services: string[];
  #client: Etcd3;
  #view: EtcdView;
  #sink: SourceSink | undefined;
  /** Bumped by every list and by close: callbacks of an older list or watch are ignored. */
  #generation = 0;
  #watcher: Watcher | undefined;
  #state: SourceState = "starting";
  #detail: string | undefined;
  #lastContact: number | undefined;
  #staleSince: number | undefined;
  /** The revision the delivered view is known complete at. */
  #revision = 0;
  /** The newest revision any etcd response reported. */
  #clusterRevision = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #failures: EtcdFailureLog;

  constructor(ctx: SourceContext, cfg: EtcdSourceConfig, tuning: EtcdSourceTuning) {
    this.id = cfg.id;
    this.#cfg = cfg;
    this.#once = ctx.once;
    this.#hostId = ctx.hostId;
    this.#log = ctx.log.child({ source: cfg.id });
    this.#tuning = { ...DEFAULTS, ...tuning };
    this.#backoff = new Backoff({ firstMs: this.#tuning.retryFirstMs, maxMs: this.#tuning.retryMaxMs });
    this.#services = ctx.config.services.map((s) => s.name);
    this.#client = this.#connect();
    this.#view = this.#newView();
    this.#failures = this.#newFailureLog();
  }

  #connect(): Etcd3 {
    return createEtcdClient({ ...this.#cfg, callTimeoutMs: this.#tuning.callTimeoutMs });
  }

  #newFailureLog(): EtcdFailureLog {
    return new EtcdFailureLog({
      connection: this.#cfg,
      access: "read",
      log: this.#log,
      meanwhile: "keeping the last backends (fail static) and retrying",
      fields: () => ({ lastContact: this.#lastContact, revision: this.#revision }),
    });
  }

  #newView(): EtcdView {
    return new EtcdView({
      layout: keyLayout(this.#cfg.prefix),
      services: this.#services,
      ...(this.#cfg.skipLocalHost ? { skipHost: this.#hostId } : {}),
      log: this.#log,
    });
  }

  async start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    await this.#relist("initial");
    if (!this.#once) {
      this.#probeTimer = setInterval(() => void this.#probe(), this.#tuning.probeMs);
      this.#probeTimer.unref();
    }
  }

  resync(reason: "timer"): Promise<void> {
    return this.#relist(reason);
  }

  async reconfigure(config: Config): Promise<void> {
    this.#services = config.services.map((s) => s.name);
    const next = config.sources.find((s): s is EtcdSourceConfig => s.kind === "etcd" && s.id === this.id);
    if (next && JSON.stringify(next) !== JSON.stringify(this.#cfg)) {
      // Other endpoints, prefix, TLS files or user (contents compare, so rotated files count): a new
      // client and a new view, as at start.
      this.#cfg = next;
      this.#dropWatcher();
      this.#client.close();
      this.#client = this.#connect();
      this.#view = this.#newView();
      this.#failures.recovered();
      this.#failures = this.#newFailureLog();
      await this.#relist("config");
      return;
    }
    this.#view.setServices(this.#services);
    this.#sink?.replace(this.#view.claims, { reason: "config" });
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#generation++;
    this.#setState("closed");
    clearTimeout(this.#retryTimer);
    clearInterval(this.#probeTimer);
    this.#dropWatcher();
    this.#client.close();
  }

  status(): SourceStatus {
    const figures: Record<string, number> = {
      revision: this.#revision,
      clusterRevision: this.#clusterRevision,
      revisionLag: Math.max(0, this.#clusterRevision - this.#revision),
    };
    if (this.#lastContact !== undefined) {
      figures.secondsSinceContact = Math.round((Date.now() - this.#lastContact) / 100) / 10;
    }
    return {
      id: this.id,
      kind: this.kind,
      state: this.#state,
      ...(this.#detail === undefined ? {} : { detail: this.#detail }),
      ...(this.#lastContact === undefined ? {} : { lastContact: this.#lastContact }),
      figures,
    };
  }

  /** List at one revision, replace, watch from the next one; on failure retry after a backoff. */
  async #relist(reason: ReplaceReason): Promise<void> {
    const generation = ++this.#generation;
    clearTimeout(this.#retryTimer);
    this.#dropWatcher();
    const root = keyLayout(this.#cfg.prefix).root;
    try {
      const listing = await listPrefix(this.#client.kv, root, this.#tuning.pageSize);
      if (generation !== this.#generation) return;
      const wrong = this.#view.reset(listing.kvs);
      this.#contact(listing.revision);
      this.#revision = listing.revision;
      // A resync counts what the last view had wrong; a first view or another prefix has nothing to compare.
      const counted = reason !== "initial" && reason !== "config";
      this.#sink?.replace(this.#view.claims, { reason, ...(counted ? { wrong } : {}) });
      await this.#tuning.afterList(listing.revision);
      if (generation !== this.#generation) return;
      if (!this.#once) this.#watch(generation, root, listing.revision + 1);
      this.#setState("ok");
    } catch (err) {
      if (generation !== this.#generation) return;
      const failures = this.#failures;
      this.#setState("stale", failures.detail(err));
      const logged = failures.failed(err).then(() => {
        // The explanation arrives after a handshake of its own: status says it from then on.
        if (generation === this.#generation && this.#state === "stale") this.#detail = failures.detail(err);
      });
      if (this.#once) return logged;
      this.#retryTimer = setTimeout(() => void this.#relist("reconnect"), this.#backoff.next());
    }
  }

  #watch(generation: number, root: string, fromRevision: number): void {
    // watcher(), not create(): create() resolves only once connected, and events before that (a
    // disconnect) would reach a watcher nobody listens to yet.
    const watcher = this.#client.watch().prefix(root).startRevision(String(fromRevision)).watcher();
    this.#watcher = watcher;
    const current = () => generation === this.#generation;
    // Only a watch that etcd accepted resets the backoff: a list that works beside a watch that
    // fails at once must not turn into a relist loop.
    let accepted = false;
    watcher.on("connected", () => {
      accepted = true;
      this.#backoff.reset();
    });
    watcher.on("data", (res) => current() && this.#onData(res));
    watcher.on("disconnected", (err) => current() && this.#lost("watch disconnected", err, accepted));
    watcher.on("error", (err) => current() && this.#lost("watch cancelled", err, accepted));
  }

  #onData(res: IWatchResponse): void {
    const revision = Number(res.header.revision);
    this.#contact(revision);
    this.#revision = Math.max(this.#revision, revision);
    const events = res.events.map((ev) => ({
      type: ev.type === "Delete" ? ("delete" as const) : ("put" as const),
      key: ev.kv.key.toString("utf8"),
      value: ev.kv.value,
    }));
    const { upserts, removals } = this.#view.apply(events);
    if (upserts.length + removals.length > 0) this.#sink?.update(upserts, removals);
  }

  #lost(what: string, err: unknown, accepted = true): void {
    this.#log.info({ error: errorText(err), revision: this.#revision }, `${what}: listing again`);
    if (accepted) {
      void this.#relist("relist");
      return;
    }
    this.#dropWatcher();
    this.#generation++;
    this.#retryTimer = setTimeout(() => void this.#relist("relist"), this.#backoff.next());
  }

  /** Proves etcd still answers while nothing changes; a failure there starts a relist (and retries). */
  async #probe(): Promise<void> {
    if (this.#state !== "ok") return;
    const generation = this.#generation;
    try {
      const res = await this.#client.kv.range({ key: Buffer.from(keyLayout(this.#cfg.prefix).root) });
      if (generation === this.#generation) this.#contact(Number(res.header.revision));
    } catch (err) {
      if (generation === this.#generation) this.#lost("probe failed", err);
    }
  }

  #dropWatcher(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.removeAllListeners();
    // An error from the cancel of a broken stream changes nothing: the watcher is gone either way
    // (the library may also throw at once when its stream is half torn down).
    watcher?.on("error", () => {});
    try {
      watcher?.cancel().catch(() => {});
    } catch {}
  }

  #contact(revision: number): void {
    this.#lastContact = Date.now();
    this.#clusterRevision = Math.max(this.#clusterRevision, revision);
  }

  #setState(state: SourceState, detail?: string): void {
    const before = this.#state;
    this.#state = state;
    this.#detail = detail;
    if (state === before) return;
    if (state === "stale") {
      this.#staleSince = Date.now();
    } else if (state === "ok") {
      this.#failures.recovered();
      const staleForMs = before === "stale" ? Date.now() - (this.#staleSince ?? Date.now()) : undefined;
      this.#log.info({ revision: this.#revision, staleForMs }, "etcd source watching");
    }
  }
}

export function createEtcdSource(
  ctx: SourceContext,
  cfg: EtcdSourceConfig,
  tuning: EtcdSourceTuning = {},
): Source {
  return new EtcdSource(ctx, cfg, tuning);
}
