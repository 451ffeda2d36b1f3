import picomatch from "picomatch";
import { portInRanges } from "../config/ports.js";
import type { ServiceRule } from "../config/types.js";
import type { Listener } from "../probe/event.js";

export interface MatchContext {
  /** Inode of the host's network namespace (PID 1's), for `netns: host`. */
  hostNetns: number;
  /** cgroup v2 path of the listener's cgroup; undefined when unknown (then a `cgroup` filter fails). */
  cgroupPath: string | undefined;
}

const commMatchers = new WeakMap<ServiceRule, (comm: string) => boolean>();

function commMatches(rule: ServiceRule & { comm: string[] }, comm: string): boolean {
  let matcher = commMatchers.get(rule);
  if (!matcher) {
    matcher = picomatch(rule.comm, { dot: true });
    commMatchers.set(rule, matcher);
  }
  return matcher(comm);
}

/** Whole path components only: /system.slice/web.service must not match /system.slice/web.service2. */
function underCgroup(path: string | undefined, prefix: string): boolean {
  if (path === undefined) return false;
  return prefix === "/" || path === prefix || path.startsWith(`${prefix}/`);
}

export function ruleMatches(listener: Listener, rule: ServiceRule, ctx: MatchContext): boolean {
  if (!portInRanges(listener.port, rule.ports)) return false;
  if (rule.uid && !rule.uid.includes(listener.uid)) return false;
  if (rule.addr && !rule.addr.includes(listener.addr)) return false;
  if (rule.netns.kind === "host" && listener.netns !== ctx.hostNetns) return false;
  if (rule.netns.kind === "inode" && listener.netns !== rule.netns.inode) return false;
  if (rule.comm && !commMatches(rule as ServiceRule & { comm: string[] }, listener.comm)) return false;
  if (rule.cgroup !== undefined && !underCgroup(ctx.cgroupPath, rule.cgroup)) return false;
  return true;
}

/** The first rule whose filters all match; a listener that matches none is not a backend. */
export function matchService(listener: Listener, rules: readonly ServiceRule[], ctx: MatchContext) {
  return rules.find((rule) => ruleMatches(listener, rule, ctx));
}
