/**
 * What the fault soak runs and breaks: one HAProxy 2.6 in master-worker mode (runtime + master
 * sockets) started in the foreground as systemd would, `bin/lbwatch run` driving it through the
 * Runtime API with a `haproxy -c` check and a reload command that fails while a flag file exists,
 * and the template lbwatch renders (a copy, so a fault can edit it). Restarts start from the same
 * files: HAProxy from dest, lbwatch from its config.
 */
import { copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Child } from "./children.js";
import { descendants } from "./cpu-time.js";
import { Haproxy, type HaproxyPaths, haproxyPaths } from "./haproxy.js";
import { BENCH_DIR, lbwatchArgv } from "./helpers.js";
import { TEMPLATE } from "./lb-config.js";

/** A line of the template outside every server line: editing it is a change only a reload applies. */
const REVISION = /timeout tunnel \d+s/;

export interface SoakPorts {
  frontend: number;
  /** The web service's ports: one backend slot each. */
  web: number[];
}

export class SoakWorld {
  readonly dir: string;
  readonly paths: HaproxyPaths;
  readonly ports: SoakPorts;
  readonly template: string;
  readonly config: string;
  /** While this file exists the reload command fails. */
  readonly reloadFlag: string;
  readonly env: Record<string, string>;
  haproxy: Haproxy | undefined;
  lbwatch: Child | undefined;
  /** Every lbwatch process so far, for their logs. */
  readonly lbwatchRuns: Child[] = [];
  #revision = 0;

  constructor(dir: string, ports: SoakPorts) {
    this.dir = dir;
    this.paths = haproxyPaths(dir);
    this.ports = ports;
    this.template = join(dir, "haproxy.cfg.hbs");
    this.config = join(dir, "lbwatch.yaml");
    this.reloadFlag = join(dir, "reload-fails");
    this.env = {
      LBWATCH_HAPROXY_BIND: `127.0.0.1:${ports.frontend}`,
      LBWATCH_HAPROXY_STATS_SOCKET: this.paths.runtimeSocket,
    };
  }

  async prepare(): Promise<void> {
    await copyFile(TEMPLATE, this.template);
    await this.#setRevision(0);
    const web = this.ports.web;
    await writeFile(
      this.config,
      `services:
  web: { ports: ["${web[0]}-${web[web.length - 1]}"] }
targets:
  - template: ${this.template}
    dest: ${this.paths.config}
    check: [haproxy, -c, -q, -f, "{staged}"]
    reload: [python3, ${join(BENCH_DIR, "helpers", "reload-unless.py")}, ${this.reloadFlag}, ${this.paths.masterSocket}]
    haproxy:
      runtimeSocket: ${this.paths.runtimeSocket}
      masterSocket: ${this.paths.masterSocket}
`,
    );
  }

  /** HAProxy from dest, as `ExecStart=haproxy -W -db -f dest -S master.sock` would. */
  async startHaproxy(): Promise<void> {
    this.haproxy = await Haproxy.start(this.paths, this.env);
  }

  /** SIGKILL to HAProxy's master and every worker: nothing is cleaned up, as in a crash. */
  async killHaproxy(): Promise<void> {
    const h = this.haproxy;
    if (!h) return;
    for (const pid of [h.child.pid, ...(await descendants(h.child.pid)).map((d) => d.pid)]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await h.child.done();
    this.haproxy = undefined;
  }

  startLbwatch(): Child {
    const child = Child.start(process.execPath, lbwatchArgv(["run", "--config", this.config]), {
      env: { ...this.env, LBWATCH_LOG_LEVEL: "info" },
    });
    this.lbwatch = child;
    this.lbwatchRuns.push(child);
    return child;
  }

  async killLbwatch(): Promise<void> {
    this.lbwatch?.signal("SIGKILL");
    await this.lbwatch?.done();
    this.lbwatch = undefined;
  }

  /** Edits the template outside its server lines: the next apply needs a reload. */
  async bumpRevision(): Promise<number> {
    await this.#setRevision(this.#revision + 1);
    return this.#revision;
  }

  get revision(): number {
    return this.#revision;
  }

  async #setRevision(n: number): Promise<void> {
    const text = await readFile(this.template, "utf8");
    const line = `timeout tunnel ${3600 + n}s`;
    const next = REVISION.test(text)
      ? text.replace(REVISION, line)
      : text.replace("    timeout client 30s\n", `    timeout client 30s\n    ${line}\n`);
    if (!next.includes(line)) throw new Error(`${this.template}: found no place for "${line}"`);
    await writeFile(this.template, next);
    this.#revision = n;
  }

  /** The revision dest was rendered with, or undefined. */
  async destRevision(): Promise<number | undefined> {
    const text = await readFile(this.paths.config, "utf8").catch(() => "");
    const m = /timeout tunnel (\d+)s/.exec(text);
    return m ? Number(m[1]) - 3600 : undefined;
  }

  async stop(): Promise<void> {
    await this.lbwatch?.stop();
    await this.haproxy?.stop();
    await rm(this.reloadFlag, { force: true });
  }
}
