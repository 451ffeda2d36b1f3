import { describe, expect, it } from "vitest";
import { TextCache } from "../../src/probe/text-cache.js";

/** A formatter that records each call, so tests can tell a cache hit from a miss. */
function hexFormatter(bytes: number) {
  const calls: number[] = [];
  const format = (buf: Buffer, offset: number) => {
    calls.push(offset);
    return buf.toString("hex", offset, offset + bytes);
  };
  return { calls, format };
}

describe("TextCache", () => {
  it("formats a field once and hands back the same text for the same bytes anywhere in a buffer", () => {
    const { calls, format } = hexFormatter(16);
    const cache = new TextCache(4, format);
    const field = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
    const buf = Buffer.concat([Buffer.alloc(8), field, field]);
    expect([cache.get(buf, 8), cache.get(buf, 24)]).toEqual([field.toString("hex"), field.toString("hex")]);
    expect(calls).toEqual([8]);
  });

  it("tells apart fields that differ only in their last byte, and reads only its own words", () => {
    const { format } = hexFormatter(4);
    const cache = new TextCache(1, format);
    const buf = Buffer.from("7f00000199999999" + "7f00000288888888", "hex");
    expect([cache.get(buf, 0), cache.get(buf, 8), cache.get(buf, 0)]).toEqual([
      "7f000001",
      "7f000002",
      "7f000001",
    ]);
  });

  it("stays right when more distinct fields than it has slots evict each other", () => {
    const { format } = hexFormatter(8);
    const cache = new TextCache(2, format);
    const buf = Buffer.alloc(8 * 2000);
    for (let i = 0; i < 2000; i++) buf.writeUInt32BE(i * 7919, 8 * i + 4);
    const expected = Array.from({ length: 2000 }, (_, i) => buf.toString("hex", 8 * i, 8 * i + 8));
    for (let round = 0; round < 2; round++) {
      expect(Array.from({ length: 2000 }, (_, i) => cache.get(buf, 8 * i))).toEqual(expected);
    }
  });
});
