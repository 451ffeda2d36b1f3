/**
 * The validated config: what `loadConfig` returns after checking every key once at the edge.
 * Everything inside lbwatch trusts these values. README documents each key.
 */
export interface PortRange {
  from: number;
  to: number;
}

/** `netns` filter: any namespace, the host's (PID 1's), or one given by inode (paths are resolved to inodes at load). */
export type NetnsFilter =
  | { kind: "any" }
  | { kind: "host" }
  | { kind: "inode"; inode: number; source: string };

export interface ServiceRule {
  name: string;
  /** Empty for a service fed only by etcd: it then matches no local listener. */
  ports: PortRange[];
  uid?: number[];
  /** Globs on the process name (picomatch). */
  comm?: string[];
  /** cgroup v2 path prefix, e.g. /system.slice/web.service. */
  cgroup?: string;
  netns: NetnsFilter;
  /**
   * "allow": a listener in a network namespace owned by a user namespace other than the initial one
   * (rootless containers, `unshare -U -r -n` by any user) may be a backend. Absent: it is refused.
   */
  userns?: "allow";
  /** Listening addresses in canonical text form. */
  addr?: string[];
  /** A readiness gate: a new backend is routed once its check passes (src/readiness/). */
  ready?: ReadyGate;
  /** Per-service settings for templates (`meta` on each service), deep-frozen. */
  meta?: Meta;
}

/** What `meta:` may hold: YAML data, no nulls. */
export type MetaValue =
  | string
  | number
  | boolean
  | readonly MetaValue[]
  | { readonly [key: string]: MetaValue };
export type Meta = { readonly [key: string]: MetaValue };

/** Inclusive HTTP status range, e.g. 200-399. */
export interface StatusRange {
  from: number;
  to: number;
}

/** How a backend is asked whether it is ready. Argv never goes through a shell. */
export type ReadyCheck =
  | { kind: "http"; path: string; expect: StatusRange[]; host?: string }
  | { kind: "exec"; argv: string[]; stdout?: string };

export interface ReadyGate {
  check: ReadyCheck;
  /** Hard limit of one attempt, ms. */
  timeoutMs: number;
  /** Retries back off from 10 ms, doubling, to at most this, ms. */
  intervalMs: number;
  /** A backend not ready this long after it appeared is given up on (logged, left out), ms. */
  deadlineMs: number;
}

export interface HaproxyTargetConfig {
  /** Stats socket at level admin: enables hitless Runtime API updates. */
  runtimeSocket?: string;
  /** Master CLI socket: used to reload when `reload` is not given. */
  masterSocket?: string;
}

export interface TargetConfig {
  /** Absolute path of the handlebars template. */
  template: string;
  /** Absolute path of the rendered file. */
  dest: string;
  /** argv; "{staged}" is replaced by the staged file's path. Never run through a shell. */
  check?: string[];
  /** argv. Never run through a shell. */
  reload?: string[];
  /** The load balancer's pid file: tells a stopped load balancer from a failed reload. */
  pidFile?: string;
  haproxy?: HaproxyTargetConfig;
  /** Timeout for check and reload commands, ms. */
  commandTimeoutMs: number;
}

export interface WaitConfig {
  minMs: number;
  maxMs: number;
}

/** This host's listeners through the kernel probe and /proc, by the service rules (at most one). */
export interface LocalSourceConfig {
  kind: "local";
}

/** TLS material for etcd, the files' PEM text as read at load (src/config/etcd-credentials.ts). */
export interface EtcdTls {
  /** Absent: Node's default trusted roots. */
  ca?: string;
  /** A client certificate and its key, both or neither. */
  cert?: string;
  key?: string;
}

/** An etcd user; the password is the content of `auth.passwordFile`, read at load. */
export interface EtcdAuth {
  username: string;
  password: string;
}

/**
 * Where etcd is and how to log in, the same for `sources[i].etcd` and the agent's `etcd`
 * (src/config/etcd.ts). File contents, not paths: a reload that reads rotated files compares unequal.
 */
export interface EtcdConnection {
  /** Client URLs, all http://host:port or all https://host:port. */
  endpoints: string[];
  /** Key prefix: "/" and name segments, no trailing "/" (e.g. /lbwatch). */
  prefix: string;
  /** Only with https:// endpoints; https:// without it verifies etcd with the default roots. */
  tls?: EtcdTls;
  /** Only over https://, or plain http:// on loopback. */
  auth?: EtcdAuth;
}

/** Backends that agents on other hosts publish under `<prefix>/v1/` (README: Several hosts). */
export interface EtcdSourceConfig extends EtcdConnection {
  kind: "etcd";
  /** "etcd-0", "etcd-1"…: the entry's place among the etcd sources, stable across reloads. */
  id: string;
  /** A local source runs too: claims of this host come from it, so this source drops them. */
  skipLocalHost: boolean;
}

export type SourceConfig = LocalSourceConfig | EtcdSourceConfig;

/** Where the metrics, health and status endpoint listens (src/config/http.ts). */
export type HttpListen =
  | { kind: "tcp"; host: string; family: 4 | 6; port: number }
  | { kind: "unix"; path: string };

export interface HttpConfig {
  listen: HttpListen;
}

export interface Config {
  /** Absolute path of the file this came from. */
  file: string;
  hostAddress: string;
  /** Host's IPv6 address for wildcard IPv6 listeners in the host netns. */
  hostAddress6: string;
  wait: WaitConfig;
  /** Full rebuild from a fresh snapshot every so often; 0 = off. */
  resyncMs: number;
  services: ServiceRule[];
  targets: TargetConfig[];
  /** Where backends come from; default: the local source alone. */
  sources: SourceConfig[];
  /** Absent: no HTTP endpoint. */
  http?: HttpConfig;
}
