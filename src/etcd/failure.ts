/**
 * A failed etcd call, explained with what to check. etcd answers a wrong password or a missing
 * permission in words, but gRPC reports every failed TLS handshake (unknown CA, a client certificate
 * refused or missing) as "No connection established. Last error: null": for those, one handshake of
 * our own with the same files asks Node what happened.
 */
import { isIP } from "node:net";
import { connect } from "node:tls";
import { EtcdAuthenticationFailedError, EtcdPermissionDeniedError } from "etcd3";
import type { EtcdConnection } from "../config/types.js";
import { errorText } from "./client.js";

export type EtcdFailureKind = "unreachable" | "tls" | "auth" | "permission";

export interface EtcdFailure {
  kind: EtcdFailureKind;
  error: string;
  /** What the operator should look at. */
  check: string;
}

/** What the caller does with the prefix: the role its etcd user needs there. */
export type EtcdAccess = "read" | "readwrite";

/** A refused client certificate shows as an alert just after the handshake (TLS 1.3): this long. */
const ALERT_WAIT_MS = 1000;
const HANDSHAKE_TIMEOUT_MS = 3000;
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

const CHECK = {
  unreachable:
    "that etcd runs and listens on these endpoints (its --listen-client-urls), with no firewall between",
  serverCert:
    "tls.ca: it must be the CA that signed etcd's server certificate (--cert-file), and that certificate must name the endpoint's host and be valid now",
  notTls: "the endpoint: it does not speak TLS (etcd serves https:// only with --cert-file and --key-file)",
  noClientCert: "tls.cert and tls.key: etcd wants a client certificate (--client-cert-auth)",
  clientCert:
    "tls.cert and tls.key: etcd (--client-cert-auth) refused the certificate; it must be signed by etcd's --trusted-ca-file, be valid now and allow client authentication",
  password: "auth.username and auth.passwordFile: etcd has no user with that name and password",
  noUser:
    "auth: etcd has authentication enabled; give auth.username and auth.passwordFile (or a client certificate whose CN is an etcd user)",
  authOff: "auth: etcd has authentication disabled; remove auth, or enable it in etcd (etcdctl auth enable)",
} as const;

/** The kind a failure is known to be from its error alone; undefined: a connection failure to look into. */
export function quickKind(err: unknown): "auth" | "permission" | undefined {
  if (err instanceof EtcdPermissionDeniedError) return "permission";
  const text = errorText(err);
  if (
    err instanceof EtcdAuthenticationFailedError ||
    /user name is empty|authentication is not enabled/.test(text)
  )
    return "auth";
  return undefined;
}

export async function explainEtcdError(
  err: unknown,
  connection: EtcdConnection,
  access: EtcdAccess,
): Promise<EtcdFailure> {
  const error = errorText(err);
  const kind = quickKind(err);
  if (kind === "permission") {
    const range = `${connection.prefix}/`;
    const user = connection.auth
      ? `"${connection.auth.username}"`
      : "(without auth: the client certificate's CN)";
    return {
      kind,
      error,
      check: `the roles of the etcd user ${user}: it needs ${access} on the keys under ${range} (etcdctl role grant-permission ROLE --prefix=true ${access} ${range})`,
    };
  }
  if (kind === "auth") {
    const check = /user name is empty/.test(error)
      ? CHECK.noUser
      : /not enabled/.test(error)
        ? CHECK.authOff
        : CHECK.password;
    return { kind, error, check };
  }
  if (!connection.endpoints.some((e) => e.startsWith("https:"))) {
    return { kind: "unreachable", error, check: CHECK.unreachable };
  }
  const found = await Promise.all(connection.endpoints.map((e) => handshake(e, connection)));
  return (
    found.find((f) => f?.kind === "tls") ??
    found.find((f) => f !== undefined) ?? { kind: "unreachable", error, check: CHECK.unreachable }
  );
}

/** One TLS handshake to `endpoint` with the connection's files: why it fails, or undefined if it works. */
function handshake(endpoint: string, connection: EtcdConnection): Promise<EtcdFailure | undefined> {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const { tls } = connection;
  return new Promise((resolve) => {
    let secure = false;
    const socket = connect({
      host,
      port: Number(url.port),
      ALPNProtocols: ["h2"],
      // SNI takes names only; an IP is still checked against the certificate's IP SANs.
      ...(isIP(host) ? {} : { servername: host }),
      ...(tls?.ca ? { ca: tls.ca } : {}),
      ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    });
    const done = (failure: EtcdFailure | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(failure);
    };
    let timer = setTimeout(() => done(undefined), HANDSHAKE_TIMEOUT_MS);
    socket.on("secureConnect", () => {
      secure = true;
      clearTimeout(timer);
      timer = setTimeout(() => done(undefined), ALERT_WAIT_MS);
    });
    socket.on("error", (e: NodeJS.ErrnoException & { reason?: string }) => {
      // OpenSSL's message is a multi-line record dump; its reason is the words ("alert bad certificate").
      const error = `${endpoint}: ${e.reason ?? errorText(e)}`;
      if (secure) done({ kind: "tls", error, check: tls?.cert ? CHECK.clientCert : CHECK.noClientCert });
      else if (NETWORK_CODES.has(e.code ?? ""))
        done({ kind: "unreachable", error, check: CHECK.unreachable });
      else if (/wrong version number|packet length too long/i.test(error))
        done({ kind: "tls", error, check: CHECK.notTls });
      else done({ kind: "tls", error, check: CHECK.serverCert });
    });
  });
}
