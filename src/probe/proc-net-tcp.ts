import { readFile } from "node:fs/promises";
import { endianness } from "node:os";
import { LbwatchError } from "../errors.js";
import { formatInet } from "./inet.js";

/** One row of /proc/PID/net/tcp or tcp6. */
export interface ProcTcpEntry {
  family: 4 | 6;
  addr: string;
  port: number;
  /** Kernel TCP state (0x0A = TCP_LISTEN). */
  state: number;
  uid: number;
  /** Socket inode: the identity events carry as `sock`. */
  inode: number;
  txQueue: number;
  /** For a listener: the current accept queue length (sk_ack_backlog), not the backlog limit. */
  rxQueue: number;
}

export const TCP_LISTEN = 0x0a;

const littleEndian = endianness() === "LE";

/**
 * The kernel prints each address as 32-bit words with `%08X` of the word as it sits in memory, i.e.
 * in host order. Writing the parsed word back in host order recovers the network-order bytes.
 */
function addressBytes(hex: string, out: Uint8Array): void {
  for (let w = 0; w < hex.length / 8; w++) {
    const word = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    for (let b = 0; b < 4; b++) {
      const shift = littleEndian ? 8 * b : 24 - 8 * b;
      out[w * 4 + b] = (word >>> shift) & 0xff;
    }
  }
}

/** Offsets inside a row, after "%4d: ", for an address of `hexLen` hex digits (fixed by the kernel's printf). */
function layout(hexLen: number) {
  const port = hexLen + 1;
  const state = port + 4 + 1 + hexLen + 5 + 1;
  const tx = state + 3;
  return { port, state, tx, rx: tx + 9, rest: tx + 18 };
}

/** Reads the whitespace-separated decimal field at or after `i`; returns [value, index after it]. */
function decimalAt(text: string, i: number): [number, number] {
  while (text.charCodeAt(i) === 32) i++;
  let j = i;
  let c = text.charCodeAt(j);
  while ((c >= 48 && c <= 57) || c === 45) c = text.charCodeAt(++j);
  return [j > i ? Number(text.slice(i, j)) : Number.NaN, j];
}

/**
 * Parses the text of /proc/net/tcp (family 4) or /proc/net/tcp6 (family 6). The header line and blank
 * lines are skipped; a line that does not have the kernel's shape is an E_PROC error naming the line.
 * Columns are read at the kernel's fixed offsets, not split: a snapshot parses every row of every
 * namespace, and splitting on whitespace was several times slower with 10,000 listeners.
 */
export function parseProcNetTcp(text: string, family: 4 | 6): ProcTcpEntry[] {
  const entries: ProcTcpEntry[] = [];
  const hexLen = family === 4 ? 8 : 32;
  const at = layout(hexLen);
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  let lineNo = 1;
  let eol = text.indexOf("\n");
  while (eol >= 0 && eol < text.length) {
    const sol = eol + 1;
    eol = text.indexOf("\n", sol);
    if (eol < 0) eol = text.length;
    lineNo++;
    const colon = text.indexOf(":", sol);
    if (colon < 0 || colon >= eol) {
      if (text.slice(sol, eol).trim() === "") continue;
      throw badLine(text, sol, eol, lineNo, family);
    }
    const base = colon + 2; // "%4d: "
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    const [uid, afterUid] = decimalAt(text, base + at.rest + 21);
    const [, afterTimeout] = decimalAt(text, afterUid);
    const [inode] = decimalAt(text, afterTimeout);
    if (
      text.charCodeAt(base + hexLen) !== 58 ||
      text.charCodeAt(base + at.rx - 1) !== 58 ||
      text.charCodeAt(base + at.state - 1) !== 32 ||
      Number.isNaN(inode) ||
      Number.isNaN(uid)
    ) {
      throw badLine(text, sol, eol, lineNo, family);
    }
    addressBytes(text.slice(base, base + hexLen), bytes);
    entries.push({
      family,
      addr: formatInet(family, bytes),
      port: Number.parseInt(text.slice(base + at.port, base + at.port + 4), 16),
      state: Number.parseInt(text.slice(base + at.state, base + at.state + 2), 16),
      uid,
      inode,
      txQueue: Number.parseInt(text.slice(base + at.tx, base + at.tx + 8), 16),
      rxQueue: Number.parseInt(text.slice(base + at.rx, base + at.rx + 8), 16),
    });
  }
  return entries;
}

function badLine(text: string, sol: number, eol: number, lineNo: number, family: 4 | 6): LbwatchError {
  const line = text.slice(sol, eol).trim();
  return new LbwatchError(
    "E_PROC",
    `/proc/net/tcp${family === 6 ? "6" : ""} line ${lineNo}: unexpected format: ${line}`,
  );
}

async function readTable(pid: number | "self", family: 4 | 6): Promise<string> {
  const path = `/proc/${pid}/net/tcp${family === 6 ? "6" : ""}`;
  try {
    return await readFile(path, "latin1");
  } catch (err) {
    // No tcp6 file means IPv6 is disabled: no IPv6 sockets. (A vanished process fails on tcp too.)
    if (family === 6 && (err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw new LbwatchError(
      "E_PROC",
      `${path}: ${(err as Error).message} (the process may have exited; retry with a live pid)`,
      { cause: err },
    );
  }
}

/**
 * Reads tcp and tcp6 of the network namespace `pid` lives in (both files at once).
 * `listenOnly` keeps only TCP_LISTEN rows. Throws E_PROC when the process is gone.
 */
export async function readProcNetTcp(
  pid: number | "self",
  opts: { listenOnly?: boolean } = {},
): Promise<ProcTcpEntry[]> {
  const [v4, v6] = await Promise.all([readTable(pid, 4), readTable(pid, 6)]);
  const entries = parseProcNetTcp(v4, 4).concat(parseProcNetTcp(v6, 6));
  return opts.listenOnly ? entries.filter((e) => e.state === TCP_LISTEN) : entries;
}
