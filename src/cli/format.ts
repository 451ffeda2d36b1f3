import type { ListenEvent, Listener } from "../probe/event.js";

/** The JSON shape of a listener in `lbwatch ls --json` (and of an event, minus `type` and `ts`). */
export function listenerJson(l: Listener) {
  return {
    pid: l.pid,
    comm: l.comm,
    uid: l.uid,
    netns: l.netns,
    family: l.family,
    addr: l.addr,
    port: l.port,
    backlog: l.backlog,
    sock: l.sock,
  };
}

/** One line of `lbwatch events --json`. `ts` (kernel CLOCK_MONOTONIC ns) is a decimal string: it exceeds 2^53. */
export function eventJsonLine(ev: ListenEvent): string {
  return JSON.stringify({ type: ev.type, ...listenerJson(ev), ts: ev.ts.toString() });
}

/** comm is chosen by the process (prctl): never let it write control sequences to a terminal. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

function endpoint(l: Listener): string {
  return l.family === 6 ? `[${l.addr}]:${l.port}` : `${l.addr}:${l.port}`;
}

interface Column {
  title: string;
  width: number;
  right?: boolean;
}

function row(columns: readonly Column[], cells: readonly string[]): string {
  return columns
    .map((c, i) => {
      const cell = cells[i] ?? "";
      return c.right ? cell.padStart(c.width) : cell.padEnd(c.width);
    })
    .join(" ")
    .trimEnd();
}

/** Columns of `lbwatch events`, after bcc's solisten, with the transition and the socket. */
const EVENT_COLUMNS: readonly Column[] = [
  { title: "TIME", width: 12 },
  { title: "EVENT", width: 6 },
  { title: "PID", width: 7, right: true },
  { title: "COMM", width: 15 },
  { title: "NETNS", width: 10, right: true },
  { title: "PROTO", width: 5 },
  { title: "BACKLOG", width: 7, right: true },
  { title: "ADDR", width: 15 },
  { title: "PORT", width: 5, right: true },
  { title: "SOCK", width: 10, right: true },
];

export const EVENT_HEADER = row(
  EVENT_COLUMNS,
  EVENT_COLUMNS.map((c) => c.title),
);

/** Offset from CLOCK_MONOTONIC (event `ts`, and process.hrtime on Linux) to wall-clock ns. */
export function monotonicToWallOffset(): bigint {
  return BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
}

function clockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function eventRow(ev: ListenEvent, wallOffsetNs: bigint): string {
  return row(EVENT_COLUMNS, [
    clockTime(Number((ev.ts + wallOffsetNs) / 1_000_000n)),
    ev.type.toUpperCase(),
    String(ev.pid),
    printable(ev.comm),
    String(ev.netns),
    `TCPv${ev.family}`,
    String(ev.backlog),
    ev.addr,
    String(ev.port),
    String(ev.sock),
  ]);
}

/** `lbwatch ls`: like `ss -ltnp`, plus namespace, uid and socket; columns as wide as their widest cell. */
export function listenerTable(listeners: readonly Listener[]): string {
  const titles = ["NETNS", "PROTO", "LOCAL ADDRESS:PORT", "BACKLOG", "PID", "COMM", "UID", "SOCK"];
  const right = [true, false, false, true, true, false, true, true];
  const cells = listeners.map((l) => [
    String(l.netns),
    `TCPv${l.family}`,
    endpoint(l),
    String(l.backlog),
    l.pid === 0 ? "-" : String(l.pid),
    l.pid === 0 ? "-" : printable(l.comm),
    String(l.uid),
    String(l.sock),
  ]);
  const columns = titles.map((title, i) => ({
    title,
    right: right[i],
    width: Math.max(title.length, ...cells.map((c) => (c[i] ?? "").length)),
  }));
  return [row(columns, titles), ...cells.map((c) => row(columns, c))].join("\n");
}
