import type { IpAddress } from "../config/ip-address.js";
import { portInRanges } from "../config/ports.js";
import type { ServiceRule } from "../config/types.js";
import type { Logger } from "../log.js";
import type { Listener } from "../probe/event.js";
import type { BackendAddresses } from "./backend-address.js";
import { backendId } from "./backend-id.js";
import type { CgroupPaths } from "./cgroup-path.js";
import { matchService } from "./match-rules.js";

/** Where a listener belongs: its service and the address the load balancer reaches it on. */
export interface Placement {
  /** Identity of the backend within the registry: service and backend id. */
  key: string;
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

  async place(listener: Listener): Promise<Placement | undefined> {
    // Most listeners on a host are no backend: skip the /proc read unless some rule wants the port.
    if (!this.#rules.some((rule) => portInRanges(listener.port, rule.ports))) return undefined;
    const cgroupPath = this.#needsCgroup ? await this.#cgroups.of(listener) : undefined;
    const rule = matchService(listener, this.#rules, { hostNetns: this.#hostNetns, cgroupPath });
    if (!rule) return undefined;
    const resolved = await this.#addresses.resolve(listener);
    if ("unreachable" in resolved) {
      const { sock, pid, comm, addr, port, netns } = listener;
      this.#log.debug(
        { service: rule.name, sock, pid, comm, addr, port, netns, reason: resolved.unreachable },
        "listener left out",
      );
      return undefined;
    }
    const { ip } = resolved;
    const key = `${rule.name}\0${backendId(ip.family, ip.address, listener.port)}`;
    const placement: Placement = { key, service: rule.name, ip, port: listener.port };
    if (cgroupPath !== undefined) placement.cgroup = cgroupPath;
    return placement;
  }

  /** Drops cached netns addresses so the next placements read them again. */
  forgetAddresses(): void {
    this.#addresses.clear();
  }
}
