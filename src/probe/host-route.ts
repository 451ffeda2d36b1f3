/**
 * Which host interfaces a packet from the host to an address leaves through: the kernel's own
 * route lookup (`ip -j route get`, argv only, so policy rules and every table count), then that
 * device, or for a bridge (docker0, a CNI bridge) its member ports, since the packet leaves through
 * whichever member leads to the address. The links come from `ip -j -d link show`, not
 * /sys/class/net: sysfs says neither that a device is a veth nor that its peer is in another
 * namespace, and without both an ordinary NIC whose index matches by chance would pass for one.
 */
import { type NetnsLink, netnsLinks } from "./netns-links.js";
import { runTool } from "./run-tool.js";

export type HostPath = { dev: string; ports: NetnsLink[] } | { none: string };

/** Route types that deliver nothing out of an interface. */
const NOT_FORWARDED = new Set(["local", "broadcast", "blackhole", "unreachable", "prohibit", "throw"]);

/** The answer of `ip -j route get`: its device, or why there is none. */
export function parseRouteGet(json: string): { dev: string } | { none: string } {
  const [route] = JSON.parse(json) as { dev?: unknown; type?: unknown }[];
  if (typeof route?.type === "string" && NOT_FORWARDED.has(route.type))
    return {
      none: route.type === "local" ? "it is an address of the host itself" : `its route is ${route.type}`,
    };
  if (typeof route?.dev !== "string") return { none: "its route names no interface" };
  return { dev: route.dev };
}

/** The device and its bridge ports (or itself) out of the host's `links`. */
export function pathThrough(dev: string, links: readonly NetnsLink[]): HostPath {
  const device = links.find((link) => link.name === dev);
  if (!device) return { none: `its route leaves through ${dev}, which ip link does not list` };
  const ports = device.kind === "bridge" ? links.filter((link) => link.master === dev) : [device];
  return { dev, ports };
}

export async function hostPath(address: string): Promise<HostPath> {
  const route = await runTool(["ip", "-j", "route", "get", address], 5_000);
  if (route.failure !== undefined) return { none: `the host has no route to it (${route.failure})` };
  const found = parseRouteGet(route.stdout);
  if ("none" in found) return found;
  return pathThrough(found.dev, await netnsLinks("self"));
}
