/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`), by self and by total time:
 *   npx tsx bench/profile-top.ts <file.cpuprofile> [rows] [from seconds] [to seconds]
 * The window keeps only the samples taken that long after the profile started (a phase of a run).
 * lb-contenders writes such profiles of every lbwatch process with LBWATCH_BENCH_PROFILE=<dir>.
 */
import { readFile } from "node:fs/promises";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, fromArg, toArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: profile-top.ts <file.cpuprofile> [rows]");
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const fromUs = Number(fromArg ?? 0) * 1e6;
const toUs = toArg === undefined ? Number.POSITIVE_INFINITY : Number(toArg) * 1e6;
const profile = JSON.parse(await readFile(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
let at = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  at += us;
  if (at < fromUs || at > toUs) return;
  all += us;
  const leaf = byId.get(id) as Node;
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + us);
  const seen = new Set<string>();
  for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
    const key = name(byId.get(node) as Node);
    if (!seen.has(key)) total.set(key, (total.get(key) ?? 0) + us);
    seen.add(key);
  }
});
const print = (title: string, m: Map<string, number>) => {
  console.log(title);
  for (const [key, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(
      `${((us / all) * 100).toFixed(1).padStart(5)} % ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
  }
};
console.log(`${file}: ${(all / 1e6).toFixed(2)} s sampled of ${(at / 1e6).toFixed(2)} s`);
print("-- self", self);
print("-- total (with callees)", total);
