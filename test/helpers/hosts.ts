/**
 * Several "hosts" on one machine, for multi-host tests: each a network namespace with a veth into a
 * bridge in the host's namespace, on a /24 the test run picks from its pid (so parallel runs do not
 * collide), with a default route via the bridge, so an agent inside finds its advertise address as on
 * a real host. The host namespace (etcd, lbwatch run, HAProxy) is on the bridge's address.
 */
import { execa, type ResultPromise } from "execa";

export interface SimulatedHost {
  /** Namespace name, also the hostId tests give its agent. */
  name: string;
  /** Its address on the bridge. */
  address: string;
  /** Starts argv inside the namespace (`ip netns exec` execs in place: the pid is argv's). */
  spawn(argv: string[], options?: { env?: Record<string, string> }): ResultPromise<{ reject: false }>;
}

export interface SimulatedNetwork {
  bridge: string;
  /** The host namespace's address on the bridge: where etcd and the load balancer listen. */
  gateway: string;
  hosts: SimulatedHost[];
  /** Kills what the hosts started, deletes the namespaces and the bridge. */
  destroy(): Promise<void>;
}

const ip = (...args: string[]) => execa("ip", args);

export async function createSimulatedHosts(count: number): Promise<SimulatedNetwork> {
  const pid = process.pid;
  const subnet = `10.${64 + (pid % 64)}.${Math.floor(pid / 64) % 256}`;
  const bridge = `lbwbr${pid % 10_000_000}`;
  const children: ResultPromise<{ reject: false }>[] = [];
  const names: string[] = [];
  const destroy = async () => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.allSettled(children);
    for (const name of names) await execa("ip", ["netns", "del", name], { reject: false });
    await execa("ip", ["link", "del", bridge], { reject: false });
  };
  const hosts: SimulatedHost[] = [];
  try {
    await ip("link", "add", bridge, "type", "bridge");
    await ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
    for (let i = 0; i < count; i++) {
      const name = `lbw-h${i}-${pid}`;
      const veth = `lbw${pid % 10_000_000}h${i}`;
      const address = `${subnet}.${i + 2}`;
      await ip("netns", "add", name);
      names.push(name);
      await ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name);
      await ip("link", "set", veth, "master", bridge, "up");
      await ip("-n", name, "link", "set", "lo", "up");
      await ip("-n", name, "addr", "add", `${address}/24`, "dev", "eth0");
      await ip("-n", name, "link", "set", "eth0", "up");
      await ip("-n", name, "route", "add", "default", "via", `${subnet}.1`);
      hosts.push({
        name,
        address,
        spawn(argv, options = {}) {
          const child = execa("ip", ["netns", "exec", name, ...argv], { reject: false, ...options });
          children.push(child);
          return child;
        },
      });
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { bridge, gateway: `${subnet}.1`, hosts, destroy };
}
