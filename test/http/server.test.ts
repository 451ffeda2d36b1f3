import { lstat, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpListen } from "../../src/config/types.js";
import { LbwatchError } from "../../src/errors.js";
import { startHttpServer } from "../../src/http/server.js";
import { fetchPath, freePort } from "../helpers/endpoint.js";
import { captureLog } from "../targets/capture-log.js";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

const hello = (_req: unknown, res: { end(text: string): void }) => res.end("hello");

async function start(listen: HttpListen) {
  const endpoint = await startHttpServer(listen, hello, captureLog().log);
  cleanups.push(() => endpoint.close());
  return endpoint;
}

/** The E_CONFIG message of a start that must fail. */
async function refusal(listen: HttpListen): Promise<string> {
  const err = await start(listen).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LbwatchError);
  expect((err as LbwatchError).code).toBe("E_CONFIG");
  return (err as LbwatchError).message;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lbwatch-http-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("startHttpServer on TCP", () => {
  it("listens on the address given and names it", async () => {
    const port = await freePort();
    const endpoint = await start({ kind: "tcp", host: "::1", family: 6, port });
    expect(endpoint.address).toBe(`[::1]:${port}`);
    expect(await fetchPath({ host: "::1", port }, "/")).toMatchObject({ status: 200, body: "hello" });
  });

  it("refuses a port in use and an address this host does not have, naming the key", async () => {
    const port = await freePort();
    const other = createServer().listen(port, "127.0.0.1");
    await new Promise((resolve) => other.once("listening", resolve));
    cleanups.push(() => new Promise((resolve) => other.close(resolve)));
    expect(await refusal({ kind: "tcp", host: "127.0.0.1", family: 4, port })).toBe(
      `http.listen: 127.0.0.1:${port} is in use: stop what listens there or choose another address`,
    );
    expect(await refusal({ kind: "tcp", host: "192.0.2.1", family: 4, port })).toBe(
      `http.listen: 192.0.2.1:${port} is not an address of this host`,
    );
  });
});

describe("startHttpServer on a unix socket", () => {
  it("creates the socket with mode 0660 and removes it when closed", async () => {
    const path = join(await tempDir(), "lbwatch.sock");
    const endpoint = await start({ kind: "unix", path });
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe("660");
    expect(await fetchPath({ socketPath: path }, "/")).toMatchObject({ status: 200, body: "hello" });
    await endpoint.close();
    expect(await lstat(path).catch((err: NodeJS.ErrnoException) => err.code)).toBe("ENOENT");
  });

  it("replaces a socket nothing answers on, left by a process that died", async () => {
    const path = join(await tempDir(), "lbwatch.sock");
    // Bound, never listening, and the process gone: the file stays, connecting is refused.
    await execa("python3", [
      "-c",
      "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      path,
    ]);
    expect((await lstat(path)).isSocket()).toBe(true);
    await start({ kind: "unix", path });
    expect(await fetchPath({ socketPath: path }, "/")).toMatchObject({ status: 200, body: "hello" });
  });

  it("refuses a socket that answers, and a path that is not a socket, leaving both as they were", async () => {
    const dir = await tempDir();
    const path = join(dir, "lbwatch.sock");
    await start({ kind: "unix", path });
    expect(await refusal({ kind: "unix", path })).toBe(
      `http.listen: ${path} is in use: stop what listens there or choose another address`,
    );
    expect(await fetchPath({ socketPath: path }, "/")).toMatchObject({ status: 200, body: "hello" });
    const file = join(dir, "file");
    await writeFile(file, "keep me");
    expect(await refusal({ kind: "unix", path: file })).toBe(
      `http.listen: ${file} exists and is not a socket: remove it or choose another path`,
    );
    expect((await stat(file)).size).toBe(7);
  });
});
