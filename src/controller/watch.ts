/**
 * What makes the controller re-read its inputs while running: chokidar on the template files and the
 * config file, and SIGHUP (the daemon convention for "reload your config").
 */
import { type FSWatcher, watch } from "chokidar";
import type { Logger } from "../log.js";

export interface WatchHandlers {
  /** A template file was written (or replaced by an editor's rename). */
  onTemplate(path: string): void;
  /** The config file was written, or SIGHUP arrived. */
  onConfig(reason: "file" | "SIGHUP"): void;
}

/** A template saved by an editor is written in a few syscalls: wait for it to settle, but only briefly. */
const SETTLE = { stabilityThreshold: 30, pollInterval: 10 };

export class InputWatcher {
  readonly #handlers: WatchHandlers;
  readonly #log: Logger;
  #watcher: FSWatcher | undefined;
  #configFile = "";
  #templates = new Set<string>();
  readonly #onSighup = () => this.#handlers.onConfig("SIGHUP");

  constructor(handlers: WatchHandlers, log: Logger) {
    this.#handlers = handlers;
    this.#log = log;
    process.on("SIGHUP", this.#onSighup);
  }

  /** Watch exactly these files (called again after a config reload changed the template list). */
  async watch(configFile: string, templates: readonly string[]): Promise<void> {
    const wanted = new Set([configFile, ...templates]);
    const current = new Set([this.#configFile, ...this.#templates].filter((p) => p !== ""));
    this.#configFile = configFile;
    this.#templates = new Set(templates);
    if (!this.#watcher) {
      this.#watcher = watch([...wanted], { ignoreInitial: true, awaitWriteFinish: SETTLE });
      this.#watcher.on("change", (path) => this.#changed(path));
      this.#watcher.on("add", (path) => this.#changed(path));
      this.#watcher.on("error", (err) => this.#log.warn({ err }, "file watcher error"));
      await new Promise<void>((resolve) => this.#watcher?.once("ready", () => resolve()));
      return;
    }
    const gone = [...current].filter((p) => !wanted.has(p));
    const added = [...wanted].filter((p) => !current.has(p));
    if (gone.length > 0) this.#watcher.unwatch(gone);
    if (added.length > 0) this.#watcher.add(added);
  }

  async close(): Promise<void> {
    process.off("SIGHUP", this.#onSighup);
    await this.#watcher?.close();
    this.#watcher = undefined;
  }

  #changed(path: string): void {
    if (path === this.#configFile) this.#handlers.onConfig("file");
    if (this.#templates.has(path)) this.#handlers.onTemplate(path);
  }
}
