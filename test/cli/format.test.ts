import { describe, expect, it } from "vitest";
import { EVENT_HEADER, eventJsonLine, eventRow, listenerJson, listenerTable } from "../../src/cli/format.js";
import type { ListenEvent, Listener } from "../../src/probe/event.js";

const v4: Listener = {
  pid: 4242,
  tid: 4243,
  comm: "web",
  uid: 33,
  gid: 33,
  cgroupId: 77n,
  netns: 4026531840,
  family: 4,
  addr: "127.0.0.1",
  port: 8080,
  backlog: 511,
  sock: 123456,
};
const v6: Listener = { ...v4, pid: 0, comm: "", family: 6, addr: "::1", port: 443, backlog: 4096, sock: 99 };
const event: ListenEvent = { ...v4, type: "listen", ts: 123456789012345678n };

describe("eventJsonLine", () => {
  it("prints the documented fields in order, with ts as a decimal string of nanoseconds", () => {
    expect(eventJsonLine(event)).toBe(
      '{"type":"listen","pid":4242,"comm":"web","uid":33,"netns":4026531840,"family":4,"addr":"127.0.0.1","port":8080,"backlog":511,"sock":123456,"ts":"123456789012345678"}',
    );
  });
});

describe("listenerJson", () => {
  it("keeps the event fields except type and ts", () => {
    expect(listenerJson(v6)).toEqual({
      pid: 0,
      comm: "",
      uid: 33,
      netns: 4026531840,
      family: 6,
      addr: "::1",
      port: 443,
      backlog: 4096,
      sock: 99,
    });
  });
});

describe("eventRow", () => {
  it("lines up under the header, with wall-clock time from the monotonic timestamp", () => {
    const wallNs = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5, 678)) * 1_000_000n;
    const row = eventRow({ ...event, comm: "evil\u001b[2J" }, wallNs - event.ts);
    const time = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const hhmmss = [time.getHours(), time.getMinutes(), time.getSeconds()].map((n) =>
      String(n).padStart(2, "0"),
    );
    expect(EVENT_HEADER).toBe(
      "TIME         EVENT      PID COMM                 NETNS PROTO BACKLOG ADDR             PORT       SOCK",
    );
    expect(row).toBe(
      `${hhmmss.join(":")}.678 LISTEN    4242 evil?[2J        4026531840 TCPv4     511 127.0.0.1        8080     123456`,
    );
  });
});

describe("listenerTable", () => {
  it("sizes columns to their widest cell, brackets IPv6 and shows - for an unknown process", () => {
    expect(listenerTable([v4, v6])).toBe(
      [
        "     NETNS PROTO LOCAL ADDRESS:PORT BACKLOG  PID COMM UID   SOCK",
        "4026531840 TCPv4 127.0.0.1:8080         511 4242 web   33 123456",
        "4026531840 TCPv6 [::1]:443             4096    - -     33     99",
      ].join("\n"),
    );
  });
});
