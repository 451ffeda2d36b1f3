/**
 * The metrics, health and status endpoint of a controller, at its config's `http.listen`, following
 * it across config reloads: the new address is bound before the old one closes, so a reload that
 * names an address in use keeps the endpoint where it was (and says so), and a config that drops
 * `http` closes it. prom-client is imported only once some config serves metrics (it costs every
 * start-up 25-80 ms).
 */
import type { HttpListen } from "../config/types.js";
import type { Controller } from "../controller/controller.js";
import { isLbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { createHandler } from "./routes.js";
import { type HttpEndpoint, startHttpServer } from "./server.js";

export class ServedEndpoint {
  readonly #controller: Controller;
  readonly #log: Logger;
  readonly #attach: (metrics: Metrics) => void;
  #metrics: Metrics | undefined;
  #endpoint: HttpEndpoint | undefined;
  /** The http.listen the endpoint is bound to, as JSON (undefined: none). */
  #bound: string | undefined;
  /** One move at a time: two quick reloads bind in order. */
  #moving: Promise<void> = Promise.resolve();

  /** `attach` hears the metrics once they exist, to feed them the controller's observations. */
  constructor(controller: Controller, log: Logger, attach: (metrics: Metrics) => void) {
    this.#controller = controller;
    this.#log = log;
    this.#attach = attach;
  }

  /** Where it listens, as http.listen names it; undefined when the config has no `http`. */
  get address(): string | undefined {
    return this.#endpoint?.address;
  }

  /** At start: binds http.listen, if any; an address that cannot be bound throws E_CONFIG. */
  async start(): Promise<void> {
    await this.#move(this.#controller.config.http?.listen);
  }

  /** After a config reload: moves to its http.listen; on failure keeps the old one and logs why. */
  follow(): Promise<void> {
    const listen = this.#controller.config.http?.listen;
    this.#moving = this.#moving.then(() =>
      this.#move(listen).catch((err: unknown) => {
        if (!isLbwatchError(err)) throw err;
        this.#log.error(
          { error: err.message, address: this.#endpoint?.address },
          "http endpoint not moved: keeping the running one",
        );
      }),
    );
    return this.#moving;
  }

  async close(): Promise<void> {
    await this.#moving.catch(() => undefined);
    await this.#endpoint?.close();
    this.#endpoint = undefined;
    this.#bound = undefined;
  }

  async #move(listen: HttpListen | undefined): Promise<void> {
    const key = listen && JSON.stringify(listen);
    if (key === this.#bound) return;
    const next = listen
      ? await startHttpServer(
          listen,
          createHandler({ view: this.#controller, metrics: await this.#metricsNow(), log: this.#log }),
          this.#log,
        )
      : undefined;
    const previous = this.#endpoint;
    this.#endpoint = next;
    this.#bound = key;
    await previous?.close();
  }

  async #metricsNow(): Promise<Metrics> {
    if (!this.#metrics) {
      const { Metrics } = await import("../metrics/metrics.js");
      this.#metrics = new Metrics();
      this.#metrics.watch(this.#controller);
      this.#attach(this.#metrics);
    }
    return this.#metrics;
  }
}
