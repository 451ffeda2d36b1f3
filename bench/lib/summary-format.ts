/** Cell formatting shared by the summary tables: a missing figure prints "–", never a made-up one. */
export type Obj = Record<string, unknown>;
export type Stat = { n: number; p50: number; p99: number; max: number } | undefined;

export const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);
export const num = (v: unknown, unit = "") => (typeof v === "number" ? `${v}${unit}` : "–");
export const stat = (s: Stat, unit = " ms") => (s ? `${s.p50} / ${s.p99} / ${s.max}${unit}` : "–");
export const cmd = (name: string, flags = "") => `\`npx tsx bench/run.ts --only=${name}${flags}\``;
