/** Small HTTP pieces for load-balancer tests: backends that answer with their own port, and a client. */
import { createServer, request, type Server } from "node:http";

export interface HttpBackend {
  port: number;
  close(): Promise<void>;
}

/** An in-process backend on host:port (0: the kernel picks) whose body is "port <port>". */
export async function startHttpBackend(host = "127.0.0.1", port = 0): Promise<HttpBackend> {
  const server: Server = createServer((_req, res) => {
    res.end(`port ${(server.address() as { port: number }).port}`);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface GetOptions {
  /** Where to connect (default 127.0.0.1). */
  address?: string;
  /** The Host header, which picks the service behind the shipped templates. */
  host?: string;
  timeoutMs?: number;
}

/** One GET / on a fresh connection (no keep-alive: nothing lingers in an old HAProxy worker). */
export function get(port: number, options: GetOptions = {}): Promise<HttpAnswer> {
  const { address = "127.0.0.1", host, timeoutMs = 3000 } = options;
  return new Promise((resolve, reject) => {
    const headers = host ? { host } : undefined;
    const req = request(
      { host: address, port, path: "/", headers, agent: false, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${address}:${port} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** Polls `probe` every `everyMs` until it returns true; rejects after `withinMs`. Returns the time taken. */
export async function waitFor(probe: () => Promise<boolean>, withinMs: number, everyMs = 5): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < withinMs) {
    if (await probe().catch(() => false)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${withinMs} ms`);
}
