import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { MAX_MS, parseDuration } from "./duration.js";
import { checkMapping, keyPath, type Problems, show } from "./problems.js";
import type { HaproxyTargetConfig, TargetConfig } from "./types.js";

const TARGET_KEYS = ["template", "dest", "check", "reload", "pidFile", "commandTimeout", "haproxy"] as const;
const HAPROXY_KEYS = ["runtimeSocket", "masterSocket"] as const;
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

/** An argv list of strings. A single string is refused: lbwatch never hands data to a shell. */
export function parseArgv(
  value: unknown,
  path: string,
  problems: Problems,
  example: string,
): string[] | undefined {
  if (typeof value === "string") {
    problems.add(path, `must be an argv list such as ${example}, not a string: lbwatch never runs a shell`);
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(path, `must be a non-empty argv list such as ${example}`);
    return undefined;
  }
  let ok = true;
  value.forEach((arg, i) => {
    if (typeof arg === "string" && arg !== "") return;
    ok = false;
    const hint = typeof arg === "number" ? `: quote it ("${arg}")` : "";
    problems.add(keyPath(path, i), `${show(arg)} is not a non-empty string${hint}`);
  });
  return ok ? (value as string[]) : undefined;
}

/** A required file path, relative to the config file's directory `base`. */
export function parsePath(
  value: unknown,
  base: string,
  path: string,
  problems: Problems,
): string | undefined {
  if (typeof value === "string" && value !== "") return resolve(base, value);
  problems.add(path, value === undefined ? "is required" : `${show(value)} is not a file path`);
  return undefined;
}

async function checkTemplate(file: string, path: string, problems: Problems): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return problems.add(path, `${file} does not exist`);
  if (!info.isFile()) return problems.add(path, `${file} is not a file`);
  await access(file, constants.R_OK).catch(() => problems.add(path, `${file} is not readable`));
}

/** The rendered file is staged beside dest and renamed over it, so its directory must be usable. */
async function checkDest(file: string, path: string, problems: Problems): Promise<void> {
  const dir = dirname(file);
  const dirInfo = await stat(dir).catch(() => undefined);
  if (!dirInfo) return problems.add(path, `directory ${dir} does not exist`);
  if (!dirInfo.isDirectory()) return problems.add(path, `${dir} is not a directory`);
  const usable = await access(dir, constants.R_OK | constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!usable) return problems.add(path, `directory ${dir} is not readable and writable by this user`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) problems.add(path, `${file} is a directory`);
}

function parseHaproxy(value: unknown, base: string, path: string, problems: Problems) {
  const raw = checkMapping(value, HAPROXY_KEYS, path, problems);
  if (!raw) return undefined;
  const haproxy: HaproxyTargetConfig = {};
  for (const key of HAPROXY_KEYS) {
    if (raw[key] !== undefined) haproxy[key] = parsePath(raw[key], base, keyPath(path, key), problems);
  }
  return haproxy;
}

async function parseTarget(value: unknown, base: string, path: string, problems: Problems) {
  const raw = checkMapping(value, TARGET_KEYS, path, problems);
  if (!raw) return undefined;
  const template = parsePath(raw.template, base, keyPath(path, "template"), problems);
  const dest = parsePath(raw.dest, base, keyPath(path, "dest"), problems);
  if (template) await checkTemplate(template, keyPath(path, "template"), problems);
  if (dest) await checkDest(dest, keyPath(path, "dest"), problems);
  const target: TargetConfig = {
    template: template ?? "",
    dest: dest ?? "",
    commandTimeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
  };
  if (raw.check !== undefined) {
    target.check = parseArgv(raw.check, keyPath(path, "check"), problems, '[haproxy, -c, -f, "{staged}"]');
  }
  if (raw.reload !== undefined) {
    target.reload = parseArgv(raw.reload, keyPath(path, "reload"), problems, "[systemctl, reload, haproxy]");
  }
  if (raw.pidFile !== undefined)
    target.pidFile = parsePath(raw.pidFile, base, keyPath(path, "pidFile"), problems);
  if (raw.commandTimeout !== undefined) {
    const ms = problems.take(
      keyPath(path, "commandTimeout"),
      parseDuration(raw.commandTimeout, MAX_MS.commandTimeout),
    );
    if (ms === 0) problems.add(keyPath(path, "commandTimeout"), "must be more than 0");
    else if (ms !== undefined) target.commandTimeoutMs = ms;
  }
  if (raw.haproxy !== undefined)
    target.haproxy = parseHaproxy(raw.haproxy, base, keyPath(path, "haproxy"), problems);
  return target;
}

/** `targets:` — a list of files to render; paths are relative to the config file's directory. */
export async function parseTargets(
  value: unknown,
  base: string,
  problems: Problems,
): Promise<TargetConfig[]> {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add("targets", "must be a non-empty list of {template, dest, check, reload}");
    return [];
  }
  const targets: TargetConfig[] = [];
  const destOwner = new Map<string, string>();
  for (const [i, raw] of value.entries()) {
    const path = keyPath("targets", i);
    const target = await parseTarget(raw, base, path, problems);
    if (!target) continue;
    const owner = destOwner.get(target.dest);
    if (target.dest && owner)
      problems.add(keyPath(path, "dest"), `${target.dest} is already the dest of ${owner}`);
    destOwner.set(target.dest, path);
    targets.push(target);
  }
  return targets;
}
