/**
 * A small SVG writer for the two plots the benchmarks publish: cumulative distributions (one line per
 * contender) and x/y lines (idle CPU vs. listener count). Log axes because the contenders differ by
 * orders of magnitude. Pure: returns the document as a string.
 */
export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  /** Draw steps between points (a CDF) instead of straight segments. */
  steps?: boolean;
}

const W = 820;
const H = 440;
const M = { left: 70, right: 250, top: 40, bottom: 55 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Axis {
  map(v: number): number;
  ticks: number[];
}

/** Tick values: powers of ten (with 2 and 5 when the range is short) on log axes, 1-2-5 steps on linear ones. */
export function ticksFor(min: number, max: number, log: boolean): number[] {
  if (log) {
    const ticks: number[] = [];
    const decades = Math.log10(max) - Math.log10(min);
    const mults = decades <= 3 ? [1, 2, 5] : [1];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of mults) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
      }
    }
    return ticks;
  }
  const raw = (max - min) / 6;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = ([1, 2, 5, 10].find((s) => s * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function axis(values: number[], log: boolean, from: number, to: number): Axis {
  const usable = log ? values.filter((v) => v > 0) : values;
  let min = Math.min(...usable);
  let max = Math.max(...usable);
  if (log) {
    min = 10 ** Math.floor(Math.log10(min));
    max = 10 ** Math.ceil(Math.log10(max));
  } else {
    min = Math.min(0, min);
    if (max === min) max = min + 1;
  }
  const f = log ? Math.log10 : (v: number) => v;
  const lo = f(min);
  const span = f(max) - lo || 1;
  return {
    map: (v) => from + ((f(log ? Math.max(v, min) : v) - lo) / span) * (to - from),
    ticks: ticksFor(min, max, log),
  };
}

export function formatTick(v: number): string {
  if (v >= 1000 || (v > 0 && v < 0.01)) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

export function linePlot(options: PlotOptions): string {
  const all = options.series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError(`plot "${options.title}" has no points`);
  const x = axis(
    all.map((p) => p[0]),
    options.logX === true,
    M.left,
    W - M.right,
  );
  const y = axis(
    all.map((p) => p[1]),
    options.logY === true,
    H - M.bottom,
    M.top,
  );
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  for (const t of x.ticks) {
    const px = x.map(t).toFixed(1);
    out.push(`<line x1="${px}" y1="${M.top}" x2="${px}" y2="${H - M.bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${px}" y="${H - M.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of y.ticks) {
    const py = y.map(t).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#ddd"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text x="16" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const coords: string[] = [];
    s.points.forEach(([px, py], j) => {
      const prev = s.points[j - 1];
      if (options.steps && prev) coords.push(`${x.map(px).toFixed(1)},${y.map(prev[1]).toFixed(1)}`);
      coords.push(`${x.map(px).toFixed(1)},${y.map(py).toFixed(1)}`);
    });
    const marker = options.steps
      ? ""
      : s.points
          .map(
            ([px, py]) =>
              `<circle cx="${x.map(px).toFixed(1)}" cy="${y.map(py).toFixed(1)}" r="3" fill="${color}"/>`,
          )
          .join("");
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.join(" ")}"/>${marker}`,
    );
    const ly = M.top + 10 + i * 20;
    out.push(
      `<line x1="${W - M.right + 12}" y1="${ly}" x2="${W - M.right + 32}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${W - M.right + 38}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>\n");
  return out.join("\n");
}

/** Empirical CDF points of a sample: (value, fraction of samples at or below it). */
export function cdfPoints(values: readonly number[]): Array<[number, number]> {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.map((v, i) => [v, (i + 1) / sorted.length]);
}
