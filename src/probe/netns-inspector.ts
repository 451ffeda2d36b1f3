/**
 * What the host can learn about another network namespace and its own routes, for deciding whether
 * a listener there is reachable (src/registry/backend-address.ts). The interface lets the registry be
 * tested with fakes; systemInspector() reads the running kernel.
 */
import type { IpAddress } from "../config/ip-address.js";
import { type HostPath, hostPath } from "./host-route.js";
import { initialUsernsInode, netnsAddresses, netnsOfPid, usernsOfNetns } from "./netns.js";
import { type NetnsLink, netnsLinks } from "./netns-links.js";

export interface NetnsFacts {
  /** Non-loopback, non-link-local interface addresses, as netnsAddresses() reads them. */
  addresses: { v4: string[]; v6: string[] };
  links: NetnsLink[];
}

export interface NetnsInspector {
  /**
   * Whether the network namespace `pid` is in (checked to be `netns`) is owned by the initial user
   * namespace, i.e. was made by root rather than inside a user namespace any user can create.
   */
  ownedByInitialUserns(pid: number, netns: number): Promise<boolean>;
  /** Addresses and links of the network namespace `pid` is in, checked to still be `netns` after reading. */
  facts(pid: number, netns: number): Promise<NetnsFacts>;
  /** The host interfaces a packet from the host to `ip` leaves through. */
  hostPath(ip: IpAddress): Promise<HostPath>;
}

export function systemInspector(): NetnsInspector {
  let initial: number | undefined;
  return {
    async ownedByInitialUserns(pid, netns) {
      initial ??= initialUsernsInode();
      return usernsOfNetns(pid, netns) === initial;
    },
    async facts(pid, netns) {
      const [addresses, links] = await Promise.all([netnsAddresses(pid), netnsLinks(pid)]);
      // Both reads go through /proc/PID: a process that changed namespace meanwhile described another one.
      const now = await netnsOfPid(pid);
      if (now !== netns) throw new Error(`process ${pid} moved to network namespace ${now} while being read`);
      return { addresses, links };
    },
    hostPath: (ip) => hostPath(ip.address),
  };
}
