import { describe, expect, it } from "vitest";
import { decodeEvent, EVENT_LAYOUT } from "../../src/probe/decode.js";
import { loadAddon } from "../../src/probe/native.js";

/** A record as the BPF program writes it, at `offset` of a larger buffer. */
function record(offset: number): Buffer {
  const buf = Buffer.alloc(offset + EVENT_LAYOUT.size, 0xee);
  const F = EVENT_LAYOUT.fields;
  const at = (name: keyof typeof F) => offset + F[name].offset;
  buf.writeBigUInt64LE(123456789012345n, at("ts"));
  buf.writeBigUInt64LE(4242n, at("cgroup_id"));
  buf.writeBigUInt64LE(5_000_000_001n, at("sock"));
  buf.writeUInt32LE(4026531840, at("netns"));
  buf.writeUInt32LE(1234, at("pid"));
  buf.writeUInt32LE(1240, at("tid"));
  buf.writeUInt32LE(1000, at("uid"));
  buf.writeUInt32LE(100, at("gid"));
  buf.writeUInt32LE(4096, at("backlog"));
  buf.writeUInt16LE(8080, at("port"));
  buf.writeUInt16LE(10, at("family"));
  buf.writeUInt8(EVENT_LAYOUT.close, at("type"));
  Buffer.from("00000000000000000000ffff0a000001", "hex").copy(buf, at("addr"));
  buf.fill(0, at("comm"), at("comm") + F.comm.size);
  buf.write("nginx: worker", at("comm"), "utf8");
  return buf;
}

describe("event layout", () => {
  it("matches the sizeof/offsetof of struct lbwatch_event the addon was compiled with", () => {
    expect(loadAddon().layout).toEqual(EVENT_LAYOUT);
  });
});

describe("decodeEvent", () => {
  it("decodes every field of a record at an offset inside a batch", () => {
    expect(decodeEvent(record(EVENT_LAYOUT.size), EVENT_LAYOUT.size)).toEqual({
      type: "close",
      pid: 1234,
      tid: 1240,
      comm: "nginx: worker",
      uid: 1000,
      gid: 100,
      cgroupId: 4242n,
      netns: 4026531840,
      family: 6,
      addr: "::ffff:10.0.0.1",
      port: 8080,
      backlog: 4096,
      sock: 5_000_000_001,
      ts: 123456789012345n,
    });
  });

  it("reads an IPv4 address from the first four address bytes and a 16-byte comm without NUL", () => {
    const buf = record(0);
    const F = EVENT_LAYOUT.fields;
    buf.writeUInt16LE(2, F.family.offset);
    buf.writeUInt8(EVENT_LAYOUT.listen, F.type.offset);
    Buffer.from([192, 0, 2, 7]).copy(buf, F.addr.offset);
    buf.write("abcdefghijklmnop", F.comm.offset, "utf8");
    const ev = decodeEvent(buf, 0);
    expect([ev.type, ev.family, ev.addr, ev.comm]).toEqual(["listen", 4, "192.0.2.7", "abcdefghijklmnop"]);
  });
});
