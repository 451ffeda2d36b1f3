import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { expect } from "vitest";
import { netnsOfPid } from "../../src/probe/netns.js";
import type { ListenerProcess } from "./listener-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = `${root}bin/lbwatch`;

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) {
      newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

/**
 * bin/lbwatch runs dist/: compile when any src file is newer than dist/cli/main.js (`make test` has
 * already built, so this is usually a stat walk). Type errors do not stop tsc from emitting.
 */
export async function ensureBuilt(): Promise<void> {
  const built = (() => {
    try {
      return statSync(`${root}dist/cli/main.js`).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built >= (await newestSource(`${root}src`))) return;
  await execa("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, reject: false });
}

/** Runs bin/lbwatch to completion (bounded to 20 s), as root or, with `asUser`, as that uid (setpriv). */
export function runCli(args: string[], options: { asUser?: number } = {}) {
  const { asUser } = options;
  if (asUser === undefined) return execa(BIN, args, { reject: false, timeout: 20_000 });
  const setpriv = [`--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", "--", BIN];
  return execa("setpriv", [...setpriv, ...args], { reject: false, timeout: 20_000 });
}

/** Starts a long-running bin/lbwatch (e.g. `events`); the caller stops it. */
export function spawnCli(args: string[]): ResultPromise<{ reject: false; timeout: number }> {
  return execa(BIN, args, { reject: false, timeout: 20_000 });
}

/** Output collected so far from a running CLI. */
export function collect(cli: { stdout: Readable | null }): () => string {
  let out = "";
  cli.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  return () => out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `events` prints nothing until something happens, so the test cannot see when the probe is attached:
 * it opens listeners one after another until the CLI reports one while it is still open, then closes
 * that one and waits for its close (all bounded).
 */
export async function listenUntilSeen(
  output: () => string,
  open: () => Promise<ListenerProcess>,
): Promise<{ seen: ListenerProcess; lines: string[] }> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const p = await open();
    const sock = String(p.sock);
    for (let i = 0; i < 20 && !output().includes(sock); i++) await sleep(25);
    const listenSeen = output().includes(sock);
    await p.stop();
    if (listenSeen) {
      for (let i = 0; i < 40 && output().split(sock).length < 3; i++) await sleep(25);
      return { seen: p, lines: output().trimEnd().split("\n") };
    }
  }
  throw new Error(`lbwatch events reported none of 40 listeners while they listened; output: ${output()}`);
}

/** What `events --json` prints for a listener of listen.py on 127.0.0.1 in this netns: its listen, then its close. */
export async function loopbackListenerEvents(seen: ListenerProcess, backlog: number): Promise<unknown[]> {
  const fields = {
    pid: seen.pid,
    comm: "python3",
    uid: 0,
    netns: await netnsOfPid("self"),
    family: 4,
    addr: "127.0.0.1",
    port: seen.port,
    backlog,
    sock: seen.sock,
  };
  return [
    { type: "listen", ...fields, ts: expect.stringMatching(/^\d+$/) },
    { type: "close", ...fields, ts: expect.stringMatching(/^\d+$/) },
  ];
}
