import { Writable } from "node:stream";
import pino from "pino";
import type { Logger } from "../../src/log.js";

/** A real pino logger whose JSON lines land in `lines`, for asserting on log fields. */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: "debug", base: undefined, timestamp: false }, stream), lines };
}
