import { isLbwatchError } from "../errors.js";
import type { Listener } from "./event.js";
import { mapLimit } from "./map-limit.js";
import { netnsOfPid } from "./netns.js";
import { type ProcTcpEntry, readProcNetTcp } from "./proc-net-tcp.js";
import { findSocketOwners } from "./proc-sockets.js";
import { ProcessInfoReader } from "./process-info.js";
import { listenBacklogs } from "./ss-backlog.js";

/** Namespaces read at once: each costs two file reads and one `ss` child. */
const NETNS_CONCURRENCY = 4;
/** Processes whose /proc entries are read at once. */
const PID_CONCURRENCY = 16;

interface NetnsListeners {
  netns: number;
  rows: ProcTcpEntry[];
  backlogs: Map<number, number>;
}

/** Reads one namespace through the first of its pids still alive; undefined when all have exited. */
async function readNetns(
  netns: number,
  pids: number[],
  selfNetns: number,
): Promise<NetnsListeners | undefined> {
  for (const pid of pids) {
    try {
      const [rows, backlogs] = await Promise.all([
        readProcNetTcp(pid, { listenOnly: true }),
        listenBacklogs(pid, netns === selfNetns),
      ]);
      return { netns, rows, backlogs };
    } catch (err) {
      // The pid left (or changed namespace): try the next one in this namespace.
      if (!isLbwatchError(err, "E_PROC") || (await netnsOfPid(pid).catch(() => 0)) === netns) throw err;
    }
  }
  return undefined;
}

/**
 * Every TCP listener in every network namespace that some process is in, with the fields and
 * identity (`sock` = socket inode) a listen event carries.
 *
 * One walk over /proc/PID/fd maps socket inodes to pids (owner = the holder that made it, not one
 * handed it by fork) and finds the namespaces; tcp and tcp6 are then read once per namespace through
 * one pid in it, keeping TCP_LISTEN rows, and `ss` gives the backlogs (see ss-backlog.ts). Every
 * step is linear in pids, fds and rows, with bounded concurrency.
 *
 * Fields /proc cannot give: a listener no readable process holds (its owner exited mid-walk, or is
 * hidden from us) has pid 0, comm "", gid 0 and cgroupId 0n, with uid from the tcp table; `tid` is
 * the pid. A namespace no process is in (kept only by a /run/netns mount) is not seen.
 * When merged with the live stream (ListenerTable), events fill in anything that raced the walk.
 */
export async function snapshot(): Promise<Listener[]> {
  const selfNetns = await netnsOfPid("self");
  // lbwatch's own namespace (usually the only one) is read through lbwatch itself, so it needs no
  // walk: its tables are read, and its `ss` runs, while the walk does.
  const [own, { owner, pidsByNetns }] = await Promise.all([
    readNetns(selfNetns, [process.pid], selfNetns),
    findSocketOwners(),
  ]);
  pidsByNetns.delete(selfNetns);
  const perNetns = [
    own,
    ...(await mapLimit([...pidsByNetns], NETNS_CONCURRENCY, ([netns, pids]) =>
      readNetns(netns, pids, selfNetns),
    )),
  ];

  const infoReader = new ProcessInfoReader();
  const ownerPids = new Set<number>();
  for (const ns of perNetns) for (const row of ns?.rows ?? []) ownerPids.add(owner.get(row.inode) ?? 0);
  ownerPids.delete(0);
  const pidList = [...ownerPids];
  const infos = await mapLimit(pidList, PID_CONCURRENCY, (pid) => infoReader.read(pid));
  const infoByPid = new Map(pidList.map((pid, i) => [pid, infos[i]]));

  const bySock = new Map<number, Listener>();
  for (const ns of perNetns) {
    if (!ns) continue;
    for (const row of ns.rows) {
      if (bySock.has(row.inode)) continue;
      const pid = owner.get(row.inode) ?? 0;
      const info = infoByPid.get(pid);
      bySock.set(row.inode, {
        pid,
        tid: pid,
        comm: info?.comm ?? "",
        uid: info?.uid ?? row.uid,
        gid: info?.gid ?? 0,
        cgroupId: info?.cgroupId ?? 0n,
        netns: ns.netns,
        family: row.family,
        addr: row.addr,
        port: row.port,
        backlog: ns.backlogs.get(row.inode) ?? 0,
        sock: row.inode,
      });
    }
  }
  return [...bySock.values()].sort(compareListeners);
}

/** Stable order for output: namespace, port, family, address, socket. */
function compareListeners(a: Listener, b: Listener): number {
  return (
    a.netns - b.netns ||
    a.port - b.port ||
    a.family - b.family ||
    (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0) ||
    a.sock - b.sock
  );
}
