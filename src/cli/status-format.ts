/**
 * The readable form of GET /status for `lbwatch status`: services with their backend counts and
 * endpoints, targets with their state, sources, and the loss and resync history. Every string came
 * over the network from whatever listens on the port, so each is made printable.
 */
import type { ControllerSnapshot, HistoryEntry } from "../controller/controller.js";
import { targetUp } from "../metrics/target-up.js";
import type { TargetStatus } from "../targets/target.js";
import { printable } from "./format.js";

/** Endpoints shown per service; `--json` has them all. */
const ENDPOINTS_SHOWN = 8;
const ERROR_CHARS = 200;

let collator: Intl.Collator | undefined;

/** "a2" before "a10". The collator is built on first use: it costs every `lbwatch run` ~6 ms at import. */
function byNumbers(a: string, b: string): number {
  collator ??= new Intl.Collator("en", { numeric: true });
  return collator.compare(a, b);
}

function table(titles: string[], rows: string[][]): string[] {
  const widths = titles.map((t, i) => Math.max(t.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(titles), ...rows.map(line)];
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/** Local time (with the date when not today) and how long ago. */
function when(at: unknown, now: number): string {
  if (typeof at !== "number" || !Number.isFinite(at)) return "-";
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const day = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return `${sameDay ? time : `${day} ${time}`} (${duration(now - at)} ago)`;
}

const text = (value: unknown) => printable(String(value ?? "-"));

function services(snapshot: ControllerSnapshot): string[] {
  const rows = Object.entries(snapshot.services).map(([name, backends]) => {
    const endpoints = backends.map((b) => text(b.endpoint)).sort(byNumbers);
    const more = endpoints.length > ENDPOINTS_SHOWN ? ` +${endpoints.length - ENDPOINTS_SHOWN} more` : "";
    return [text(name), String(backends.length), endpoints.slice(0, ENDPOINTS_SHOWN).join(" ") + more];
  });
  return table(["SERVICE", "BACKENDS", "ENDPOINTS"], rows);
}

function targetLines(t: TargetStatus, now: number): string[] {
  const lines: string[] = [];
  if (t.lastError && !targetUp(t)) {
    const message = text(t.lastError.message).split("\n")[0]?.slice(0, ERROR_CHARS);
    lines.push(`  last error ${when(t.lastError.at, now)}: ${text(t.lastError.code)}: ${message}`);
  }
  for (const q of t.quarantined ?? []) {
    lines.push(
      `  quarantined ${text(q.service)}/${text(q.id)} (pid ${text(q.pid)}, ${text(q.comm)}, uid ${text(q.uid)}) since ${when(q.since, now)}: ${text(q.reason)}`,
    );
  }
  return lines;
}

function targets(snapshot: ControllerSnapshot, now: number): string[] {
  const rows = snapshot.targets.map((t) => {
    const failures = t.failures > 0 ? ` (${t.failures} failed)` : "";
    const applied = t.lastApplied
      ? `${when(t.lastApplied.at, now)} ${text(t.lastApplied.activation)}${typeof t.lastApplied.latencyMs === "number" ? ` ${Math.round(t.lastApplied.latencyMs * 10) / 10} ms` : ""}`
      : "-";
    return [text(t.target), `${text(t.state)}${failures}`, when(t.since, now), applied];
  });
  const lines = table(["TARGET", "STATE", "SINCE", "LAST APPLIED"], rows);
  return [
    lines[0] ?? "",
    ...snapshot.targets.flatMap((t, i) => [lines[i + 1] ?? "", ...targetLines(t, now)]),
  ];
}

function sources(snapshot: ControllerSnapshot, now: number): string[] {
  const rows = snapshot.sources.map((s) => [
    text(s.id),
    text(s.state),
    when(s.lastContact, now),
    s.detail ? text(s.detail) : "",
  ]);
  return table(["SOURCE", "STATE", "LAST CONTACT", "DETAIL"], rows);
}

/** The controller keeps the last 10 of each; all are shown, oldest first. */
function history(
  title: string,
  entries: HistoryEntry[],
  now: number,
  describe: (e: HistoryEntry) => string,
): string[] {
  if (entries.length === 0) return [`${title}: none`];
  return [
    `${title}:`,
    ...entries.map((e) => `  ${when(e.at, now)}  ${text(e.source)}  ${text(e.reason)}  ${describe(e)}`),
  ];
}

export function statusSummary(snapshot: ControllerSnapshot, now: number): string {
  const lines = [
    ...services(snapshot),
    "",
    ...targets(snapshot, now),
    "",
    ...sources(snapshot, now),
    "",
    `pending: ${snapshot.pending ? "yes" : "no"}`,
    ...history("lost events", snapshot.lost ?? [], now, (e) => `${text(e.count)} events`),
    ...history(
      "resyncs",
      snapshot.resyncs ?? [],
      now,
      (e) => `${text(e.listenersWrong)} listeners, ${text(e.backendsWrong)} backends wrong`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
