import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = `${root}bin/lbwatch`;

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) {
      newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

/**
 * bin/lbwatch runs dist/: compile when any src file is newer than dist/cli/main.js (`make test` has
 * already built, so this is usually a stat walk). Type errors do not stop tsc from emitting.
 */
export async function ensureBuilt(): Promise<void> {
  const built = (() => {
    try {
      return statSync(`${root}dist/cli/main.js`).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built >= (await newestSource(`${root}src`))) return;
  await execa("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, reject: false });
}

/** Runs bin/lbwatch to completion (bounded to 20 s), as root or, with `asUser`, as that uid (setpriv). */
export function runCli(args: string[], options: { asUser?: number } = {}) {
  const { asUser } = options;
  if (asUser === undefined) return execa(BIN, args, { reject: false, timeout: 20_000 });
  const setpriv = [`--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", "--", BIN];
  return execa("setpriv", [...setpriv, ...args], { reject: false, timeout: 20_000 });
}

/** Starts a long-running bin/lbwatch (e.g. `events`); the caller stops it. */
export function spawnCli(args: string[]): ResultPromise<{ reject: false; timeout: number }> {
  return execa(BIN, args, { reject: false, timeout: 20_000 });
}
