/**
 * The endpoint's three resources. GET only (HEAD as GET without a body, as node:http does); the
 * request body, query string and headers other than the method and path are ignored.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { SerialQueue } from "../serial-queue.js";
import { type StatusView, writeStatus } from "./status-body.js";

export interface EndpointView extends StatusView {
  health(): { ok: true } | { ok: false; reason: string };
}

/**
 * /status bodies are built one at a time: concurrent ones would each take a slice per loop turn, and
 * the loop would be held for the sum. A few wait their turn; more are refused.
 */
const STATUS_WAITING_MAX = 8;

function send(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(`${body}\n`);
}

export function createHandler(deps: { view: EndpointView; metrics: Metrics; log: Logger }): RequestListener {
  const statusQueue = new SerialQueue();
  let waiting = 0;
  const routes = new Map<string, (res: ServerResponse) => Promise<void> | void>([
    [
      "/metrics",
      async (res) => {
        const text = await deps.metrics.text();
        res.writeHead(200, { "content-type": deps.metrics.contentType });
        res.end(text);
      },
    ],
    [
      "/healthz",
      (res) => {
        const health = deps.view.health();
        if (health.ok) send(res, 200, "ok");
        else send(res, 503, health.reason);
      },
    ],
    [
      "/status",
      async (res) => {
        if (waiting >= STATUS_WAITING_MAX) return send(res, 503, "busy: too many /status requests at once");
        waiting++;
        await statusQueue.run(async () => {
          waiting--;
          if (res.destroyed) return;
          res.writeHead(200, { "content-type": "application/json" });
          await writeStatus(deps.view, res);
        });
      },
    ],
  ]);
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = routes.get(path);
    if (!route) return send(res, 404, `not found: try ${[...routes.keys()].join(", ")}`);
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, "only GET", { allow: "GET, HEAD" });
    Promise.resolve(route(res)).catch((err: unknown) => {
      deps.log.error({ err, path }, "http request failed");
      if (!res.headersSent) send(res, 500, "internal error: see lbwatch's log");
      else res.destroy();
    });
  };
}
