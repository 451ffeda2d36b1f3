import { describe, expect, it } from "vitest";
import {
  type BackendValue,
  decodeBackendValue,
  decodeHostValue,
  encodeBackendValue,
  encodeHostValue,
} from "../../src/etcd/values.js";

const backend: BackendValue = {
  address: "10.0.0.3",
  port: 8000,
  family: 4,
  pid: 4242,
  comm: "python3",
  uid: 1000,
  netns: 4026531840,
  backlog: 4096,
  cgroup: "/system.slice/web.service",
  since: 1_700_000_000_000,
};
const bytes = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v));

describe("backend values", () => {
  it("round-trip, with the same bytes whatever the field order of the object", () => {
    const shuffled = Object.fromEntries(Object.entries(backend).reverse()) as unknown as BackendValue;
    expect(encodeBackendValue(shuffled)).toBe(encodeBackendValue(backend));
    expect(decodeBackendValue(bytes(encodeBackendValue(backend)))).toEqual({ value: backend });
    const { cgroup: _, ...withoutCgroup } = backend;
    expect(decodeBackendValue(bytes(encodeBackendValue(withoutCgroup)))).toEqual({ value: withoutCgroup });
  });

  it("refuse hostile values whole, saying why", () => {
    const cases: [unknown, string][] = [
      ["{", "not JSON"],
      [[1], "not a JSON object"],
      [{ ...backend, weight: 1 }, 'unknown field "weight"'],
      [{ ...backend, family: "4" }, "family must be 4 or 6"],
      [{ ...backend, address: "127.0.0.1" }, "address: loopback"],
      [{ ...backend, address: "0.0.0.0" }, "address: unspecified"],
      [{ ...backend, address: "10.0.0.3 " }, "address: not a canonical IP address"],
      [{ ...backend, address: "fd00::3" }, "address: not an IPv4 address"],
      [{ ...backend, family: 6, address: "FD00::3" }, "address: not a canonical IP address"],
      [{ ...backend, family: 6, address: "::ffff:10.0.0.3" }, "address: IPv4-mapped (write it as IPv4)"],
      [{ ...backend, port: 0 }, "port must be 1-65535"],
      [{ ...backend, port: 8000.5 }, "port must be 1-65535"],
      [{ ...backend, pid: -1 }, "pid must be an integer 0-4294967295"],
      [{ ...backend, uid: 2 ** 32 }, "uid must be an integer 0-4294967295"],
      [{ ...backend, netns: "4026531840" }, "netns must be an inode number"],
      [{ ...backend, comm: 7 }, "comm must be a string of at most 64 characters"],
      [{ ...backend, comm: "x".repeat(65) }, "comm must be a string of at most 64 characters"],
      [{ ...backend, cgroup: "system.slice" }, "cgroup must be a path starting with /"],
      [{ ...backend, since: null }, "since must be a wall-clock time in ms"],
      [{ ...backend, comm: "x".repeat(5000) }, "longer than 4096 bytes"],
    ];
    expect(cases.map(([value]) => decodeBackendValue(bytes(value)))).toEqual(
      cases.map(([, error]) => ({ error })),
    );
  });
});

describe("host values", () => {
  const host = {
    version: "0.1.0",
    bootId: "3f1c",
    startTime: 1_700_000_000_000,
    addresses: ["10.0.0.3", "fd00::3"],
  };

  it("round-trip", () => {
    expect(decodeHostValue(bytes(encodeHostValue(host)))).toEqual({ value: host });
  });

  it("refuse addresses another host could not reach", () => {
    expect(decodeHostValue(bytes({ ...host, addresses: ["10.0.0.3", "::1"] }))).toEqual({
      error: 'addresses: "::1": loopback',
    });
    expect(decodeHostValue(bytes({ ...host, addresses: "10.0.0.3" }))).toEqual({
      error: "addresses must be a list of at most 256 addresses",
    });
    expect(decodeHostValue(bytes({ ...host, bootId: 7 }))).toEqual({ error: "bootId must be a string" });
  });
});
