/**
 * Staged files are `.NAME.lbwatch-PID-RANDOM` beside dest (src/targets/atomic-write.ts). A lbwatch
 * killed between staging and rename leaves one behind; at start each dest directory is cleaned of
 * those whose PID no longer runs lbwatch, and only those: another lbwatch's files, and any file not of
 * this exact shape, are left alone.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "../log.js";

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function runsLbwatch(pid: number): Promise<boolean> {
  if (pid === process.pid) return true;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  return cmdline?.includes("lbwatch") === true;
}

/** Removes dest's staged files left by lbwatch processes that are gone; returns their names. */
export async function removeStaleStaged(dest: string, log: Logger): Promise<string[]> {
  const dir = dirname(dest);
  const shape = new RegExp(`^\\.${escapeRegExp(basename(dest))}\\.lbwatch-(\\d+)-[0-9a-f]{8}$`);
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = shape.exec(name)?.[1];
    if (pid === undefined || (await runsLbwatch(Number(pid)))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  if (removed.length > 0) log.info({ removed }, "removed staged files left by a lbwatch that is gone");
  return removed;
}
