/** The fields of /proc/PID/stat lbwatch uses. */
export interface ProcStat {
  ppid: number;
  /** Field 22: clock ticks after boot at which the process started. */
  startTicks: number;
}

/**
 * Reads /proc/PID/stat text. The process names itself (comm, field 2, in parentheses), and a name
 * may hold spaces and ")": fields are counted from after the last ")", which comm cannot follow.
 * Undefined when the text is not a stat line.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // After ") ": state (field 3), ppid (4), … starttime (22).
  const fields = text.slice(close + 2).split(" ");
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  if (!Number.isSafeInteger(ppid) || !Number.isSafeInteger(startTicks) || fields[19] === "") return undefined;
  return { ppid, startTicks };
}
