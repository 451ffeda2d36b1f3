import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { listenBacklogs, parseSsListeners } from "../../src/probe/ss-backlog.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";

describe("parseSsListeners", () => {
  it("maps each listener's inode to its Send-Q, the backlog limit, not the queue length (Recv-Q)", async () => {
    const text = await readFile(new URL("../fixtures/ss-ltne.txt", import.meta.url), "utf8");
    expect(parseSsListeners(text)).toEqual(
      new Map([
        [47, 128],
        [14083, 4096],
        [2003, 7],
        [2004, 0],
      ]),
    );
  });
});

describe("listenBacklogs", () => {
  it("reads the backlog of a live listener of this namespace", async () => {
    let p: ListenerProcess | undefined;
    try {
      p = await startListenerProcess({ addr: "127.0.0.1", backlog: 42 });
      expect((await listenBacklogs(p.pid, true)).get(p.sock)).toBe(42);
      expect((await listenBacklogs(p.pid, false)).get(p.sock)).toBe(42);
    } finally {
      await p?.stop();
    }
  });
});
