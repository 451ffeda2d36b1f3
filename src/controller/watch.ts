/**
 * What makes the controller re-read its inputs while running: the template files and the config
 * file, and SIGHUP (the daemon convention for "reload your config").
 *
 * It watches the directories that hold the files, not the files: an editor's rename over a file,
 * `sed -i` or a delete and recreate each replace the inode a file watch is tied to, and such a watch
 * then goes deaf without a word. A directory watch sees the new file arrive. SIGHUP also rebuilds
 * the watch from scratch, for whatever else could have broken it.
 */

import { dirname } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { Logger } from "../log.js";

export interface WatchHandlers {
  /** A template file was written, replaced or recreated. */
  onTemplate(path: string): void;
  /** The config file was written, or SIGHUP arrived. */
  onConfig(reason: "file" | "SIGHUP"): void;
}

/** A file saved by an editor is written in a few syscalls: wait for it to settle, but only briefly. */
const SETTLE = { stabilityThreshold: 30, pollInterval: 10 };

export class InputWatcher {
  readonly #handlers: WatchHandlers;
  readonly #log: Logger;
  #watcher: FSWatcher | undefined;
  #configFile = "";
  #templates = new Set<string>();
  #alive = true;
  readonly #onSighup = () => {
    void this.#rearm().then(() => this.#handlers.onConfig("SIGHUP"));
  };

  constructor(handlers: WatchHandlers, log: Logger) {
    this.#handlers = handlers;
    this.#log = log;
    process.on("SIGHUP", this.#onSighup);
  }

  /** Watch exactly these files (called again after a config reload changed the template list). */
  async watch(configFile: string, templates: readonly string[]): Promise<void> {
    this.#configFile = configFile;
    this.#templates = new Set(templates);
    await this.#rearm();
  }

  /** False after the watcher reported an error, until SIGHUP rebuilt it. */
  get alive(): boolean {
    return this.#alive;
  }

  async close(): Promise<void> {
    process.off("SIGHUP", this.#onSighup);
    await this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #rearm(): Promise<void> {
    await this.#watcher?.close();
    const files = new Set([this.#configFile, ...this.#templates].filter((p) => p !== ""));
    const dirs = [...new Set([...files].map((f) => dirname(f)))];
    const watcher = watch(dirs, {
      ignoreInitial: true,
      depth: 0,
      awaitWriteFinish: SETTLE,
      // Everything else in those directories (staged files, swap files) is none of our business.
      ignored: (path) => !files.has(path) && !dirs.includes(path),
    });
    this.#watcher = watcher;
    this.#alive = true;
    watcher.on("change", (path) => this.#changed(path));
    watcher.on("add", (path) => this.#changed(path));
    watcher.on("error", (err) => {
      this.#alive = false;
      this.#log.warn({ err }, "file watcher error: send SIGHUP to rebuild it");
    });
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  #changed(path: string): void {
    if (path === this.#configFile) this.#handlers.onConfig("file");
    if (this.#templates.has(path)) this.#handlers.onTemplate(path);
  }
}
