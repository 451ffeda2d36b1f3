/**
 * Decodes ring-buffer records (struct lbwatch_event in bpf/lbwatch.h) into ListenEvents. Records are
 * in host byte order, read here as little-endian (x86-64, arm64). The offsets below are the C layout;
 * test/probe/event-layout.test.ts checks them against the sizeof/offsetof the addon was compiled
 * with. Records arrive as one Buffer per batch; comm and address strings come from caches keyed by
 * their bytes, so a typical event allocates only its object and its two bigints. */
import type { ListenEvent } from "./event.js";
import { formatIPv4, formatIPv6 } from "./inet.js";
import type { NativeLayout } from "./native.js";
import { TextCache } from "./text-cache.js";

export const EVENT_LAYOUT = {
  size: 88,
  fields: {
    ts: { offset: 0, size: 8 },
    cgroup_id: { offset: 8, size: 8 },
    sock: { offset: 16, size: 8 },
    netns: { offset: 24, size: 4 },
    pid: { offset: 28, size: 4 },
    tid: { offset: 32, size: 4 },
    uid: { offset: 36, size: 4 },
    gid: { offset: 40, size: 4 },
    backlog: { offset: 44, size: 4 },
    port: { offset: 48, size: 2 },
    family: { offset: 50, size: 2 },
    type: { offset: 52, size: 1 },
    oldstate: { offset: 53, size: 1 },
    newstate: { offset: 54, size: 1 },
    pad: { offset: 55, size: 1 },
    addr: { offset: 56, size: 16 },
    comm: { offset: 72, size: 16 },
  },
  listen: 1,
  close: 2,
} as const satisfies NativeLayout;

const F = EVENT_LAYOUT.fields;
const AF_INET = 2;

/** comm is NUL-terminated unless it fills all 16 bytes. */
function formatComm(records: Buffer, comm: number): string {
  let end = comm;
  while (end < comm + F.comm.size && records[end] !== 0) end++;
  return records.toString("utf8", comm, end);
}

const comms = new TextCache(F.comm.size / 4, formatComm);
/** An IPv4 record's address is its first 4 bytes only. */
const ipv4 = new TextCache(1, formatIPv4);
const ipv6 = new TextCache(F.addr.size / 4, formatIPv6);

/** The record at `offset` of `records`. Its port is what the kernel reported: 0 before resolution. */
export function decodeEvent(records: Buffer, offset: number): ListenEvent {
  const family = records.readUInt16LE(offset + F.family.offset) === AF_INET ? 4 : 6;
  const addr = offset + F.addr.offset;
  return {
    type: records[offset + F.type.offset] === EVENT_LAYOUT.listen ? "listen" : "close",
    pid: records.readUInt32LE(offset + F.pid.offset),
    tid: records.readUInt32LE(offset + F.tid.offset),
    comm: comms.get(records, offset + F.comm.offset),
    uid: records.readUInt32LE(offset + F.uid.offset),
    gid: records.readUInt32LE(offset + F.gid.offset),
    cgroupId: records.readBigUInt64LE(offset + F.cgroup_id.offset),
    netns: records.readUInt32LE(offset + F.netns.offset),
    family,
    addr: family === 4 ? ipv4.get(records, addr) : ipv6.get(records, addr),
    port: records.readUInt16LE(offset + F.port.offset),
    backlog: records.readUInt32LE(offset + F.backlog.offset),
    sock:
      records.readUInt32LE(offset + F.sock.offset) +
      records.readUInt32LE(offset + F.sock.offset + 4) * 2 ** 32,
    ts: records.readBigUInt64LE(offset + F.ts.offset),
  };
}
