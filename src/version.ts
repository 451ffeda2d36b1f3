import { readFileSync } from "node:fs";

/** lbwatch's version, from package.json (for --version and the agents' host keys). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
