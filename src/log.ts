import pino, { type Logger } from "pino";

export type { Logger };

/** JSON lines by default (for journald and log shippers); human-readable on a TTY. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const level = options.level ?? process.env.LBWATCH_LOG_LEVEL ?? "info";
  if (pretty) {
    return pino({
      level,
      transport: {
        target: "pino-pretty",
        options: { destination: 2, colorize: true, ignore: "pid,hostname" },
      },
    });
  }
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}
