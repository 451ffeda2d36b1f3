/**
 * Who this host is, for claims that leave it: /etc/machine-id (systemd's stable per-install id) unless
 * the config names one. The boot id tells a reboot from a restart of lbwatch.
 */
import { readFile } from "node:fs/promises";
import { LbwatchError } from "../errors.js";

const MACHINE_ID = "/etc/machine-id";
const BOOT_ID = "/proc/sys/kernel/random/boot_id";

async function readTrimmed(path: string, fix: string): Promise<string> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new LbwatchError("E_CONFIG", `${path}: cannot read it (${err.code ?? err.message}); ${fix}`, {
      cause: err,
    });
  });
  const value = text.trim();
  if (value === "") throw new LbwatchError("E_CONFIG", `${path} is empty; ${fix}`);
  return value;
}

export function readMachineId(): Promise<string> {
  return readTrimmed(MACHINE_ID, "set hostId in the config");
}

export function readBootId(): Promise<string> {
  return readTrimmed(BOOT_ID, "is /proc mounted?");
}
