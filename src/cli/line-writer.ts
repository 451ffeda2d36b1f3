import type { Writable } from "node:stream";

/**
 * Joins lines written in one turn of the event loop into a single write: the probe emits events one
 * by one from a ring-buffer batch, and one write per event would cost a syscall each on a pipe.
 */
export function createLineWriter(stream: Writable) {
  let pending: string[] = [];
  let scheduled = false;
  let closed = false;
  const closedListeners: (() => void)[] = [];
  // EPIPE (`lbwatch events | head`) or any other write failure: the reader is gone, stop writing.
  stream.on("error", () => {
    closed = true;
    for (const fn of closedListeners) fn();
  });
  const flush = () => {
    scheduled = false;
    if (pending.length === 0 || closed) return;
    const text = `${pending.join("\n")}\n`;
    pending = [];
    stream.write(text);
  };
  return {
    write(line: string) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    /** Calls fn when the reader has gone away. */
    onClosed(fn: () => void) {
      closedListeners.push(fn);
    },
  };
}
