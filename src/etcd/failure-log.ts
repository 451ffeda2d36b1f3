/**
 * Logs etcd failures once per change, explained (failure.ts): a source or publisher retries every
 * couple of seconds, and a line per retry would bury the one that says what to fix. A failure of
 * another kind (the network back, the password now refused) is a change and is logged; recovered()
 * starts over.
 */
import type { EtcdConnection } from "../config/types.js";
import type { Logger } from "../log.js";
import { errorText } from "./client.js";
import { type EtcdAccess, type EtcdFailure, explainEtcdError, quickKind } from "./failure.js";

export interface EtcdFailureLogOptions {
  connection: EtcdConnection;
  access: EtcdAccess;
  log: Logger;
  /** What the caller does meanwhile, the end of the message: "keeping the last backends…". */
  meanwhile: string;
  /** Fields of the caller's state added to the line, read when it is written. */
  fields?: () => Record<string, unknown>;
}

export class EtcdFailureLog {
  readonly #o: EtcdFailureLogOptions;
  /** The kind logged since the last recovery ("connection": unreachable or TLS, told apart later). */
  #logged: string | undefined;
  /** Bumped by recovered(): an explanation still in flight for an older failure is dropped. */
  #generation = 0;
  #explained: EtcdFailure | undefined;

  constructor(options: EtcdFailureLogOptions) {
    this.#o = options;
  }

  /** Resolves once the line is written (or skipped): `run --once` waits for it before it exits. */
  async failed(err: unknown): Promise<void> {
    const kind = quickKind(err) ?? "connection";
    if (kind === this.#logged) return;
    this.#logged = kind;
    const generation = this.#generation;
    await explainEtcdError(err, this.#o.connection, this.#o.access).then((failure) => {
      if (generation !== this.#generation) return;
      this.#explained = failure;
      const what = failure.kind === "unreachable" ? "etcd unreachable" : "etcd refused the connection";
      this.#o.log.warn(
        { endpoints: this.#o.connection.endpoints, ...failure, ...this.#o.fields?.() },
        `${what}: ${this.#o.meanwhile}`,
      );
    });
  }

  /**
   * One line for status: the explained failure when `err` is of the kind last explained (gRPC's own
   * text for a refused handshake says only "No connection established"), else the error's text.
   */
  detail(err: unknown): string {
    const explained = this.#explained;
    const sameKind = explained && (quickKind(err) ?? "connection") === this.#logged;
    return sameKind ? `${explained.error}; check ${explained.check}` : errorText(err);
  }

  recovered(): void {
    this.#logged = undefined;
    this.#explained = undefined;
    this.#generation++;
  }
}
