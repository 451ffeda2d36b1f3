/**
 * For the make install / make deb tests: the checkout, its package.json version, `make` bounded in
 * time, a tree listing, and running a command in a private mount namespace
 * (test/fixtures/in-mount-ns.mjs) so an installed tree can be seen at its real paths.
 */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const checkout = fileURLToPath(new URL("../..", import.meta.url));
export const version = (JSON.parse(readFileSync(`${checkout}package.json`, "utf8")) as { version: string })
  .version;
const inMountNs = fileURLToPath(new URL("../fixtures/in-mount-ns.mjs", import.meta.url));

/** `make ARGS` in the checkout; throws with make's output when it fails. */
export async function make(args: string[], timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
  return execa("make", ["--no-print-directory", ...args], { cwd: checkout, timeout });
}

/** The entries under dir (files, links and, unless `withoutDirs`, directories), relative, sorted. */
export async function listTree(dir: string, withoutDirs = false): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !(withoutDirs && e.isDirectory()))
    .map((e) => relative(dir, `${e.parentPath}/${e.name}`))
    .sort();
}

export interface MountView {
  /** [lower, target]: target shows lower's files over its own; writes are discarded. */
  overlays?: [string, string][];
  /** Directories that look empty (e.g. the checkout, to show nothing is loaded from it). */
  hide?: string[];
}

/** argv running `command` in a private mount namespace with `view`; nothing changes on the machine. */
export function inMountNamespace(view: MountView, command: string[]): [string, string[]] {
  const options = [
    ...(view.overlays ?? []).flatMap(([lower, target]) => ["--overlay", `${lower}:${target}`]),
    ...(view.hide ?? []).flatMap((dir) => ["--hide", dir]),
  ];
  return [
    "unshare",
    ["--mount", "--propagation", "private", process.execPath, inMountNs, ...options, "--", ...command],
  ];
}

/** The files both installs put under share/lbwatch/ (templates and examples), relative to share/. */
export const SHARED_FILES = [
  "lbwatch/examples/grafana/README.md",
  "lbwatch/examples/grafana/lbwatch-dashboard.json",
  "lbwatch/examples/haproxy/README.md",
  "lbwatch/examples/haproxy/haproxy.service.d-lbwatch.conf",
  "lbwatch/examples/haproxy/lbwatch.yaml",
  "lbwatch/examples/nginx/README.md",
  "lbwatch/examples/nginx/lbwatch.yaml",
  "lbwatch/templates/haproxy.cfg.hbs",
  "lbwatch/templates/nginx.conf.hbs",
];
