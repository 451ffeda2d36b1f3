/**
 * One way to open an etcd v3 client (npm `etcd3`, over @grpc/grpc-js), for the source and the agent.
 * What the defaults of the library lack and a daemon needs: a deadline on every unary call (a call to
 * a partitioned member would otherwise wait forever), HTTP/2 keepalive so that a dead connection under
 * a long watch is noticed, and reconnect backoff that stays short, so that recovery after an outage
 * takes seconds, not the 2 minutes gRPC would grow to. TLS and the etcd user come from the config
 * (src/config/etcd-credentials.ts), already read and checked.
 */
import { Etcd3, type IOptions } from "etcd3";
import type { EtcdConnection, EtcdTls } from "../config/types.js";

export interface EtcdClientOptions extends Pick<EtcdConnection, "endpoints" | "tls" | "auth"> {
  /** Deadline of each unary call (range, txn, lease grant), ms. */
  callTimeoutMs?: number;
}

/** etcd refuses pings more often than its --grpc-keepalive-min-time (5 s by default). */
const KEEPALIVE_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;

function credentials(tls: EtcdTls): IOptions["credentials"] {
  return {
    // No CA: grpc-js then verifies with Node's default roots; etcd3 types the field as always given.
    rootCertificate: (tls.ca ? Buffer.from(tls.ca) : null) as Buffer,
    ...(tls.cert && tls.key ? { certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) } : {}),
  };
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  const callTimeoutMs = options.callTimeoutMs ?? 5000;
  return new Etcd3({
    hosts: options.endpoints,
    ...(options.tls ? { credentials: credentials(options.tls) } : {}),
    ...(options.auth ? { auth: { ...options.auth } } : {}),
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    grpcOptions: {
      "grpc.keepalive_time_ms": KEEPALIVE_MS,
      "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
      "grpc.initial_reconnect_backoff_ms": 200,
      "grpc.max_reconnect_backoff_ms": 2000,
    },
  });
}

/** The error's one-line text for logs (gRPC errors carry multi-line details). */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? text;
}
