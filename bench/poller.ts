/**
 * The polling baseline of issue 5, run as its own process:
 *   node --import tsx bench/poller.ts <lbwatch config.yaml> <interval ms>
 * A `Source` that takes lbwatch's /proc snapshot (src/probe/snapshot.ts) every interval and replaces
 * its sink's view with it, run by a real Controller: lbwatch's own rules, registry, templates and
 * targets. Only the source of listeners differs from `lbwatch run`: polling instead of the kernel
 * stream. The period runs from the start of each poll, as a cron-like poller has; a poll that takes
 * longer than the period is followed at once by the next.
 */
import type { Config } from "../src/config/types.js";
import { Controller } from "../src/controller/controller.js";
import { createLogger } from "../src/log.js";
import type { Listener } from "../src/probe/event.js";
import { hostNetnsInode } from "../src/probe/netns.js";
import { systemInspector } from "../src/probe/netns-inspector.js";
import { snapshot } from "../src/probe/snapshot.js";
import { BackendAddresses } from "../src/registry/backend-address.js";
import { CgroupPaths } from "../src/registry/cgroup-path.js";
import { Classifier } from "../src/registry/classify.js";
import type {
  BackendClaim,
  ReplaceReason,
  Source,
  SourceContext,
  SourceSink,
  SourceStatus,
} from "../src/sources/source.js";

/** A poll is never wrong, only late: nothing it replaces counts as drift in the controller's log. */
const NOTHING_WRONG = { count: 0, keys: [], sample: [] };

class PollingSource implements Source {
  readonly id = "poller";
  readonly kind = "poller";
  readonly #context: SourceContext;
  readonly #intervalMs: number;
  readonly #cgroups = new CgroupPaths();
  #classifier: Classifier;
  #sink: SourceSink | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #polling: Promise<void> = Promise.resolve();
  #state: SourceStatus["state"] = "starting";
  #lastContact: number | undefined;

  constructor(context: SourceContext, intervalMs: number) {
    this.#context = context;
    this.#intervalMs = intervalMs;
    this.#classifier = this.#classifierFor(context.config);
  }

  async start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    await this.#poll("initial");
    this.#state = "ok";
    this.#schedule(this.#intervalMs);
  }

  resync(): Promise<void> {
    return this.#poll("timer");
  }

  reconfigure(config: Config): Promise<void> {
    this.#classifier = this.#classifierFor(config);
    return this.#poll("config");
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#state = "closed";
    clearTimeout(this.#timer);
    await this.#polling;
  }

  status(): SourceStatus {
    const status: SourceStatus = { id: this.id, kind: this.kind, state: this.#state };
    if (this.#lastContact !== undefined) status.lastContact = this.#lastContact;
    return status;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      const started = Date.now();
      void this.#poll("timer").finally(() =>
        this.#schedule(Math.max(0, this.#intervalMs - (Date.now() - started))),
      );
    }, delayMs);
  }

  /** One snapshot, placed by the rules, as the whole view; polls never overlap. */
  #poll(reason: ReplaceReason): Promise<void> {
    this.#polling = this.#polling.then(async () => {
      if (this.#closed) return;
      const claims: BackendClaim[] = [];
      for (const listener of await snapshot()) {
        const claim = await this.#claimOf(listener);
        if (claim) claims.push(claim);
      }
      this.#lastContact = Date.now();
      this.#sink?.replace(claims, { reason, wrong: NOTHING_WRONG });
    });
    return this.#polling;
  }

  async #claimOf(listener: Listener): Promise<BackendClaim | undefined> {
    const placement = await this.#classifier.place(listener);
    if (!placement) return undefined;
    const { sock, pid, comm, uid, netns, backlog } = listener;
    return {
      key: String(sock),
      service: placement.service,
      family: placement.ip.family,
      address: placement.ip.address,
      port: placement.port,
      host: this.#context.hostId,
      pid,
      comm,
      uid,
      netns,
      backlog,
      since: Date.now(),
      ...(placement.cgroup === undefined ? {} : { cgroup: placement.cgroup }),
    };
  }

  #classifierFor(config: Config): Classifier {
    const hostNetns = hostNetnsInode();
    const addresses = new BackendAddresses({ ...config, hostNetns, inspector: systemInspector() });
    return new Classifier(config.services, hostNetns, addresses, this.#cgroups, this.#context.log);
  }
}

const [configFile, intervalArg] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
if (!configFile || !(intervalMs > 0)) {
  console.error("usage: poller.ts <lbwatch config.yaml> <interval ms>");
  process.exit(2);
}

const log = createLogger({ pretty: false });
const controller = await Controller.load({
  configFile,
  log,
  sources: (context) => [new PollingSource(context, intervalMs)],
});
const stopped = new Promise((resolve) => process.once("SIGTERM", resolve));
await controller.start();
log.info({ intervalMs }, "poller running");
await stopped;
await controller.close();
