/**
 * The controller's Observer for `lbwatch run`, attached to the metrics only once the config says they
 * are served: the controller needs its observer before its config is read, and prom-client costs
 * every start-up 25-80 ms to import (measured), which a config without `http.listen` never needs
 * (until a reload adds `http.listen`). Calls before it is attached, or without metrics, are dropped.
 */
import type { Observer } from "../controller/observer.js";

export class LateObserver implements Observer {
  target: Observer | undefined;
  readonly applied: Observer["applied"] = (...args) => this.target?.applied(...args);
  readonly templateError: Observer["templateError"] = (...args) => this.target?.templateError(...args);
  readonly kernelEvent: Observer["kernelEvent"] = (...args) => this.target?.kernelEvent(...args);
  readonly eventsLost: Observer["eventsLost"] = (...args) => this.target?.eventsLost(...args);
  readonly resynced: Observer["resynced"] = (...args) => this.target?.resynced(...args);
  /** Called after each config reload that took (run.ts moves the http endpoint then). */
  reloaded: () => void = () => {};
  readonly configReloaded: Observer["configReloaded"] = (ok) => {
    this.target?.configReloaded(ok);
    if (ok) this.reloaded();
  };
}
