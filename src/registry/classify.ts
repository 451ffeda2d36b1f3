import type { IpAddress } from "../config/ip-address.js";
import { portInRanges } from "../config/ports.js";
import type { ServiceRule } from "../config/types.js";
import type { Logger } from "../log.js";
import type { Listener } from "../probe/event.js";
import type { BackendAddresses } from "./backend-address.js";
import type { CgroupPaths } from "./cgroup-path.js";
import { matchService } from "./match-rules.js";
import { OncePerSocket } from "./once-per-socket.js";

/** Where a listener belongs: its service and the address the load balancer reaches it on. */
export interface Placement {
  service: string;
  ip: IpAddress;
  port: number;
  /** cgroup v2 path of the listener's process, when a rule needed it. */
  cgroup?: string;
}

/** Applies one config's rules and address translation to listeners. */
export class Classifier {
  readonly #rules: readonly ServiceRule[];
  readonly #hostNetns: number;
  readonly #addresses: BackendAddresses;
  readonly #cgroups: CgroupPaths;
  readonly #log: Logger;
  readonly #needsCgroup: boolean;
  readonly #reported = new OncePerSocket();

  constructor(
    rules: readonly ServiceRule[],
    hostNetns: number,
    addresses: BackendAddresses,
    cgroups: CgroupPaths,
    log: Logger,
  ) {
    this.#rules = rules;
    this.#hostNetns = hostNetns;
    this.#addresses = addresses;
    this.#cgroups = cgroups;
    this.#log = log;
    this.#needsCgroup = rules.some((rule) => rule.cgroup !== undefined);
  }

  /** Whether any rule wants this port: most listeners on a host are no backend, and need no lookup. */
  mayMatch(port: number): boolean {
    return this.#rules.some((rule) => portInRanges(port, rule.ports));
  }

  async place(listener: Listener): Promise<Placement | undefined> {
    if (!this.mayMatch(listener.port)) return undefined;
    const cgroupPath = this.#needsCgroup ? await this.#cgroups.of(listener) : undefined;
    const rule = matchService(listener, this.#rules, { hostNetns: this.#hostNetns, cgroupPath });
    if (!rule) return undefined;
    const resolved = await this.#addresses.resolve(listener, rule);
    if ("refused" in resolved) {
      const { sock, pid, uid, comm, addr, port, netns } = listener;
      // A refusal may be an attack in progress, and resyncs place every socket again: warn once each.
      if (this.#reported.first(sock)) {
        this.#log.warn(
          { service: rule.name, sock, pid, uid, comm, netns, addr, port, reason: resolved.refused },
          "listener refused as a backend",
        );
      }
      return undefined;
    }
    const { ip } = resolved;
    const placement: Placement = { service: rule.name, ip, port: listener.port };
    if (cgroupPath !== undefined) placement.cgroup = cgroupPath;
    return placement;
  }

  /** Drops what is cached of network namespaces so the next placements read them again (resync). */
  forgetAddresses(): void {
    this.#addresses.clear();
    this.#reported.nextGeneration();
  }
}
