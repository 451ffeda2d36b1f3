/**
 * The server keywords HAProxy 2.6 accepts in `add server` (management guide, "add server"), with the
 * number of arguments each takes. A rendered server line whose options are all in this table can be
 * applied through the Runtime API exactly as the config file would have set it; any other option
 * (or `source`, whose argument count varies) means the running server would differ from the file,
 * so lbwatch reloads instead. So does `enabled`, which HAProxy takes: 2.6 then shows the new server
 * up and ready in `show servers state` but never sends it a request (measured: every request a 503).
 */
const FLAGS = [
  "agent-check",
  "allow-0rtt",
  "backup",
  "check",
  "check-send-proxy",
  "check-ssl",
  "check-via-socks4",
  "disabled",
  "force-sslv3",
  "force-tlsv10",
  "force-tlsv11",
  "force-tlsv12",
  "force-tlsv13",
  "no-ssl-reuse",
  "no-sslv3",
  "no-tlsv10",
  "no-tlsv11",
  "no-tlsv12",
  "no-tlsv13",
  "no-tls-tickets",
  "send-proxy",
  "send-proxy-v2",
  "send-proxy-v2-ssl",
  "send-proxy-v2-ssl-cn",
  "ssl",
  "tfo",
  "tls-tickets",
];

const WITH_ONE_ARGUMENT = [
  "agent-addr",
  "agent-inter",
  "agent-port",
  "agent-send",
  "alpn",
  "addr",
  "ca-file",
  "check-alpn",
  "check-proto",
  "check-sni",
  "ciphers",
  "ciphersuites",
  "crl-file",
  "crt",
  "downinter",
  "error-limit",
  "fall",
  "fastinter",
  "id",
  "inter",
  "maxconn",
  "maxqueue",
  "minconn",
  "npn",
  "observe",
  "on-error",
  "on-marked-down",
  "on-marked-up",
  "pool-low-conn",
  "pool-max-conn",
  "pool-purge-delay",
  "port",
  "proto",
  "proxy-v2-options",
  "rise",
  "slowstart",
  "sni",
  "ssl-max-ver",
  "ssl-min-ver",
  "track",
  "verify",
  "verifyhost",
  "weight",
  "ws",
];

/** Taken by `add server`, but the server it makes is not the one the config line makes. */
const MISLEADING = new Map([
  ["enabled", 'server option "enabled" makes HAProxy 2.6 show an added server ready but send it no traffic'],
]);

const ARITY = new Map<string, number>([
  ...FLAGS.map((k) => [k, 0] as const),
  ...WITH_ONE_ARGUMENT.map((k) => [k, 1] as const),
]);

/**
 * Checks that every option of a server line is one `add server` accepts, with its argument.
 * Returns undefined when they all are, else why not (for the log line of the fallback reload).
 */
export function unsupportedOption(options: readonly string[]): string | undefined {
  for (let i = 0; i < options.length; i++) {
    const keyword = options[i] as string;
    const misleading = MISLEADING.get(keyword);
    if (misleading) return misleading;
    const arity = ARITY.get(keyword);
    if (arity === undefined)
      return `server option "${keyword}" is not accepted by "add server" in HAProxy 2.6`;
    if (i + arity >= options.length && arity > 0) return `server option "${keyword}" lacks its argument`;
    i += arity;
  }
  return undefined;
}
