/** Requests to lbwatch's HTTP endpoint, over TCP or a unix socket, and a free loopback port for one. */
import { type IncomingHttpHeaders, request } from "node:http";
import { createServer } from "node:net";
import { execa } from "execa";

export type EndpointAddress = { port: number; host?: string } | { socketPath: string };

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection, bounded by timeoutMs. */
export function fetchPath(
  to: EndpointAddress,
  path: string,
  method = "GET",
  timeoutMs = 10_000,
): Promise<Reply> {
  const where =
    "socketPath" in to ? { socketPath: to.socketPath } : { host: to.host ?? "127.0.0.1", port: to.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...where, path, method, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** A port nothing listens on now (the kernel's pick, released): for a config's http.listen. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Sample lines of a Prometheus text exposition, without comments: `name{labels} value`. */
export function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

/** What `promtool check metrics` (Debian's prometheus package) says of an exposition. */
export async function promtoolCheck(text: string): Promise<{ exitCode: number | undefined; output: string }> {
  const r = await execa("promtool", ["check", "metrics"], { input: text, reject: false, timeout: 10_000 });
  return { exitCode: r.exitCode, output: r.stdout + r.stderr };
}
