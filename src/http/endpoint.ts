/** The metrics, health and status endpoint of a controller, at its config's `http.listen`. */
import type { Controller } from "../controller/controller.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { createHandler } from "./routes.js";
import { type HttpEndpoint, startHttpServer } from "./server.js";

/** Listening when this resolves (undefined: the config has no http key); throws E_CONFIG when it cannot. */
export async function serveController(
  controller: Controller,
  metrics: Metrics,
  log: Logger,
): Promise<HttpEndpoint | undefined> {
  const listen = controller.config.http?.listen;
  if (!listen) return undefined;
  metrics.watch(controller);
  return startHttpServer(listen, createHandler({ view: controller, metrics, log }), log);
}
