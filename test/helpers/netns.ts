import { readlink } from "node:fs/promises";
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

export interface RoutedNetns extends TestNetns {
  /** The namespace's address on its veth, which the host routes into it. */
  address: string;
  /** The host's address on the same subnet (on the veth, or on the bridge). */
  hostAddress: string;
  /** Where the host's route into the namespace leaves: the veth's host end, or the bridge. */
  hostDevice: string;
}

/**
 * A namespace wired like a container: a veth whose inner end (eth0) holds 10.213.SUBNET.2/24 and
 * whose host end holds 10.213.SUBNET.1/24, or, with `bridge`, is a port of a new bridge holding it
 * (as docker0 is). The host then routes the subnet into the namespace. `subnet` (0-255) must differ
 * between namespaces alive at once. destroy() also removes the veth and the bridge.
 */
export async function createRoutedNetns(
  tag: string,
  subnet: number,
  options: { bridge?: boolean } = {},
): Promise<RoutedNetns> {
  const ns = await createTestNetns(tag);
  const suffix = `${process.pid % 100_000}${subnet % 10}`;
  const veth = `lbwv${suffix}`;
  const bridge = `lbwb${suffix}`;
  const address = `10.213.${subnet}.2`;
  const hostAddress = `10.213.${subnet}.1`;
  const host = (...args: string[]) => execa("ip", args);
  const destroy = async () => {
    await ns.destroy();
    await execa("ip", ["link", "del", veth], { reject: false });
    if (options.bridge) await execa("ip", ["link", "del", bridge], { reject: false });
  };
  try {
    await host("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns.name);
    if (options.bridge) {
      await host("link", "add", bridge, "type", "bridge");
      await host("link", "set", veth, "master", bridge);
      await host("addr", "add", `${hostAddress}/24`, "dev", bridge);
      await host("link", "set", bridge, "up");
    } else {
      await host("addr", "add", `${hostAddress}/24`, "dev", veth);
    }
    await host("link", "set", veth, "up");
    await ns.ip("addr", "add", `${address}/24`, "dev", "eth0");
    await ns.ip("link", "set", "eth0", "up");
  } catch (err) {
    await destroy();
    throw err;
  }
  return { ...ns, address, hostAddress, hostDevice: options.bridge ? bridge : veth, destroy };
}

/** Waits (at most 1 s) until `pid` is in another network namespace than ours: `ip netns exec` and `unshare` switch after the spawn. */
export async function untilInOtherNetns(pid: number): Promise<void> {
  const ours = await readlink("/proc/self/ns/net");
  for (let i = 0; i < 100 && (await readlink(`/proc/${pid}/ns/net`).catch(() => ours)) === ours; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}
