import { execa, type ResultPromise } from "execa";

/** A network namespace made by a test (`ip netns add`), with processes run inside it. */
export interface TestNetns {
  name: string;
  /** The /run/netns bind mount: stat it for the namespace inode. */
  path: string;
  /** Starts argv inside the namespace; `ip netns exec` execs in place, so the child's pid is argv's. */
  spawn(argv: string[]): ResultPromise<{ reject: false }>;
  /** Runs `ip -n NAME ...args` and waits for it. */
  ip(...args: string[]): Promise<void>;
  /** Kills what spawn started and deletes the namespace (and the veths inside it). */
  destroy(): Promise<void>;
}

/**
 * Creates `lbw-<tag>-<pid>` with loopback up. `addresses` (CIDRs, e.g. "10.77.0.1/24", "fd00:77::1/64")
 * go on one end of a veth pair whose both ends stay inside the namespace, so nothing touches the host.
 */
export async function createTestNetns(tag: string, addresses: string[] = []): Promise<TestNetns> {
  const name = `lbw-${tag}-${process.pid}`;
  await execa("ip", ["netns", "add", name]);
  const children: ResultPromise<{ reject: false }>[] = [];
  const ns: TestNetns = {
    name,
    path: `/run/netns/${name}`,
    spawn(argv) {
      const child = execa("ip", ["netns", "exec", name, ...argv], { reject: false });
      children.push(child);
      return child;
    },
    async ip(...args) {
      await execa("ip", ["-n", name, ...args]);
    },
    async destroy() {
      for (const c of children) c.kill("SIGKILL");
      await Promise.allSettled(children);
      await execa("ip", ["netns", "del", name], { reject: false });
    },
  };
  try {
    await ns.ip("link", "set", "lo", "up");
    if (addresses.length > 0) {
      await ns.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
      for (const a of addresses) {
        await ns.ip("addr", "add", a, "dev", "v0", ...(a.includes(":") ? ["nodad"] : []));
      }
      await ns.ip("link", "set", "v0", "up");
      await ns.ip("link", "set", "v1", "up");
    }
  } catch (err) {
    await ns.destroy();
    throw err;
  }
  return ns;
}
