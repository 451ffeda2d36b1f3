/**
 * A ListenProbe opened for a benchmark, counting the events of the ports the benchmark owns (other
 * engineers' tests run on this machine too) and every drop the probe reports.
 */
import type { ListenEvent } from "../../src/probe/event.js";
import { ListenProbe, type ProbeOptions } from "../../src/probe/listen-probe.js";

export class ProbeSession {
  readonly probe: ListenProbe;
  delivered = 0;
  lostReports = 0;
  readonly #ours: (ev: ListenEvent) => boolean;

  constructor(
    ours: (ev: ListenEvent) => boolean,
    options: ProbeOptions = {},
    onEvent?: (ev: ListenEvent) => void,
  ) {
    this.#ours = ours;
    this.probe = ListenProbe.open(options);
    this.probe.on("event", (ev) => {
      if (!this.#ours(ev)) return;
      this.delivered++;
      onEvent?.(ev);
    });
    this.probe.on("lost", () => {
      this.lostReports++;
    });
    this.probe.on("error", () => {
      // Counted through stats(); the benchmark reports drops, it does not stop on them.
    });
  }

  drops(): number {
    return this.probe.stats().drops;
  }

  close(): void {
    this.probe.close();
  }
}
