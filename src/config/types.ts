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
  ports: PortRange[];
  uid?: number[];
  /** Globs on the process name (picomatch). */
  comm?: string[];
  /** cgroup v2 path prefix, e.g. /system.slice/web.service. */
  cgroup?: string;
  netns: NetnsFilter;
  /** Listening addresses in canonical text form. */
  addr?: string[];
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
  /** Absent: no HTTP endpoint. */
  http?: HttpConfig;
}
