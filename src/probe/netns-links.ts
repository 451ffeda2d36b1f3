/**
 * The interfaces of another network namespace, as far as reachability needs them: index, kind, and
 * for a veth the index of its peer and whether that peer lives in another namespace. /proc has no
 * file with a link's peer, so this runs `ip -j -d link show` inside the namespace (nsenter --net,
 * argv only: the mount namespace, and so the `ip` binary, stay the host's).
 */
import { LbwatchError } from "../errors.js";
import { runTool } from "./run-tool.js";

export interface NetnsLink {
  ifindex: number;
  name: string;
  /** The bridge this link is a port of. */
  master?: string;
  /** linkinfo.info_kind: "veth", "bridge", "macvlan"…; undefined for a plain device (lo, a NIC). */
  kind?: string;
  /** IFLA_LINK: for a veth, its peer's index, in the peer's namespace. */
  peerIndex?: number;
  /** IFLA_LINK_NETNSID: set when that peer is in another namespace. */
  peerNetnsid?: number;
}

const integer = (value: unknown) => (Number.isSafeInteger(value) ? (value as number) : undefined);

/** Links from `ip -j -d link show` output; entries without an index are skipped. */
export function parseIpLinks(json: string): NetnsLink[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error("ip -j link did not print a JSON array");
  return parsed.flatMap((entry: Record<string, unknown>) => {
    const ifindex = integer(entry?.ifindex);
    if (ifindex === undefined) return [];
    const info = entry.linkinfo as { info_kind?: unknown } | undefined;
    const link: NetnsLink = { ifindex, name: String(entry.ifname ?? "") };
    if (typeof entry.master === "string") link.master = entry.master;
    if (typeof info?.info_kind === "string") link.kind = info.info_kind;
    const peerIndex = integer(entry.link_index);
    if (peerIndex !== undefined) link.peerIndex = peerIndex;
    const peerNetnsid = integer(entry.link_netnsid);
    if (peerNetnsid !== undefined) link.peerNetnsid = peerNetnsid;
    return [link];
  });
}

/**
 * The links of the network namespace `pid` is in, or of lbwatch's own with "self" (no nsenter).
 * Throws E_PROC (process gone, no iproute2, not root).
 */
export async function netnsLinks(pid: number | "self"): Promise<NetnsLink[]> {
  const ip = ["ip", "-j", "-d", "link", "show"];
  const argv = pid === "self" ? ip : ["nsenter", `--net=/proc/${pid}/ns/net`, "--", ...ip];
  const { stdout, failure } = await runTool(argv, 5_000);
  try {
    if (failure !== undefined) throw new Error(failure);
    return parseIpLinks(stdout);
  } catch (err) {
    throw new LbwatchError(
      "E_PROC",
      `reading the links of a network namespace with \`${argv.join(" ")}\` failed: ${(err as Error).message} (install iproute2 and util-linux, run as root)`,
      { cause: err },
    );
  }
}
