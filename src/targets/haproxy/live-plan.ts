/**
 * What to tell a running HAProxy so that its servers agree with the desired ones: pure functions from
 * (desired, what runs, what lbwatch remembers) to a plan of Runtime API operations.
 *
 * - `planFull` compares every desired server with `show servers state` in the backends lbwatch
 *   manages (O(all): start-up, after any doubt, on the resync timer).
 * - `planChange` does the same for the servers one change touches, against what lbwatch knows runs
 *   (O(changed): the live path). Both follow the same rules, so the fast path is only ever an
 *   optimisation of the full one.
 *
 * Rules: a missing server is added; a server no render has is taken out of rotation (maintenance) and
 * deleted once idle; a server lbwatch put in maintenance that is desired again goes back to ready. An
 * operator's maintenance or drain (`set server … state maint|drain`, not done by lbwatch) is respected:
 * the server stays so, also when lbwatch removes and re-adds it, until the operator sets it ready.
 */
import { canonicalIp } from "../../config/ip-address.js";
import type { AdminState, ServerRef, ServerSpec } from "./runtime-commands.js";

/** srv_admin_state bits (HAProxy 2.6 server.h): forced maintenance and forced drain. */
export const ADMIN_FMAINT = 0x01;
export const ADMIN_FDRAIN = 0x08;

export const serverKey = (s: ServerRef): string => `${s.backend}/${s.name}`;

/** A server as it runs: from `show servers state`, or as lbwatch knows it from the acks it got. */
export interface RunningServer extends ServerRef {
  address: string;
  port: number;
  adminState: number;
  /** The options it was created with, when lbwatch knows them (it added it, or HAProxy loaded a known file). */
  options?: readonly string[];
}

export interface Memory {
  /** Servers lbwatch took out of rotation to delete them. */
  readonly draining: { has(key: string): boolean };
  /**
   * Servers lbwatch added whose enable it has not seen acknowledged (the connection was lost in
   * between): their maintenance is the one `add server` starts them in, lbwatch's, not an operator's.
   */
  readonly enabling: { has(key: string): boolean };
  /** Servers an operator put in maintenance or drain, by key, until they set them ready. */
  readonly operator: ReadonlyMap<string, Exclude<AdminState, "ready">>;
}

export interface Plan {
  /** `state`: what the new server is set to after its add (an operator's state it had before). */
  add: { spec: ServerSpec; state: AdminState }[];
  /** lbwatch's own maintenance lifted (a drained server desired again, a `disabled` one no more). */
  ready: ServerSpec[];
  /** Kept but out of rotation: their line says `disabled` (a backend waiting to be ready). */
  park: ServerSpec[];
  /** Being deleted, but desired again (their backend came back): kept, in whatever state. */
  keep: ServerSpec[];
  /** Out of rotation now, deleted when idle. */
  remove: ServerRef[];
  readdress: { ref: ServerRef; ip: string; port: number }[];
  /** Why a reload is needed for part of it (what the Runtime API cannot do). */
  reload?: string;
  /** Operator states seen in `show servers state` ("ready": the operator lifted one). */
  operatorSeen: Map<string, AdminState>;
}

const emptyPlan = (): Plan => ({
  add: [],
  ready: [],
  park: [],
  keep: [],
  remove: [],
  readdress: [],
  operatorSeen: new Map(),
});

/** "127.0.0.1:8001", "[::1]:8001" → canonical ip and port; undefined for anything else (a hostname). */
export function splitAddress(address: string): { ip: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  const ip = m?.[1] === undefined ? undefined : canonicalIp(m[1]);
  return ip && m ? { ip: ip.address, port: Number(m[2]) } : undefined;
}

/** `disabled` is a state, not a setting: it changes live (maint/ready), never needs a reload. */
const settingsOf = new WeakMap<readonly string[], string>();
/** Option lists are shared between servers with the same line (parseConfig, KnownServers): once each. */
function settings(options: readonly string[]): string {
  let text = settingsOf.get(options);
  if (text === undefined) {
    text = options.filter((o) => o !== "disabled").join(" ");
    settingsOf.set(options, text);
  }
  return text;
}
const isDisabled = (options: readonly string[] | undefined) => options?.includes("disabled") === true;

/** The part of both plans that compares one desired server with what runs under its name. */
function planDesired(spec: ServerSpec, running: RunningServer | undefined, memory: Memory, plan: Plan): void {
  const key = serverKey(spec);
  const where = splitAddress(spec.address);
  if (!where) {
    plan.reload ??= `server ${key} has address "${spec.address}", which lbwatch cannot compare with what runs`;
    return;
  }
  if (!running) {
    plan.add.push({ spec, state: memory.operator.get(key) ?? "ready" });
    return;
  }
  if (running.options && settings(running.options) !== settings(spec.options)) {
    plan.reload ??= `server ${key} changed its options`;
    return;
  }
  if (running.address !== where.ip || running.port !== where.port) {
    plan.readdress.push({ ref: spec, ip: where.ip, port: where.port });
  }
  const maint = (running.adminState & ADMIN_FMAINT) !== 0;
  const draining = memory.draining.has(key);
  // Back in rotation below unless something keeps it out (an operator's state, its line's `disabled`).
  if (draining && (memory.operator.has(key) || isDisabled(spec.options))) plan.keep.push(spec);
  if (isDisabled(spec.options)) {
    if (!maint) plan.park.push(spec);
    return;
  }
  // Maintenance is lbwatch's own when it is deleting the server or its line said `disabled`.
  const ours = draining || memory.enabling.has(key) || isDisabled(running.options);
  if (maint && ours && !memory.operator.has(key)) plan.ready.push(spec);
}

/**
 * What a running server's state says of the operator: maintenance or drain lbwatch did not set is
 * theirs, "ready" that they lifted one lbwatch knew of; undefined when it says nothing (lbwatch's
 * own maintenance: deleting it, its enable not seen, its line `disabled`).
 */
export function operatorState(
  now: RunningServer,
  options: readonly string[] | undefined,
  memory: Memory,
): AdminState | undefined {
  const key = serverKey(now);
  if (memory.draining.has(key) || memory.enabling.has(key) || isDisabled(options)) return undefined;
  if (now.adminState & ADMIN_FMAINT) return "maint";
  if (now.adminState & ADMIN_FDRAIN) return "drain";
  return memory.operator.has(key) ? "ready" : undefined;
}

/** Every desired server against `show servers state`, in the backends lbwatch manages. */
export function planFull(
  desired: ReadonlyMap<string, ServerSpec>,
  managed: ReadonlySet<string>,
  live: readonly RunningServer[],
  memory: Memory,
): Plan {
  const plan = emptyPlan();
  const running = new Map(live.map((s) => [serverKey(s), s]));
  for (const [key, spec] of desired) {
    const now = running.get(key);
    const state = now && !isDisabled(spec.options) ? operatorState(now, now.options, memory) : undefined;
    if (state) plan.operatorSeen.set(key, state);
  }
  const seen = { ...memory, operator: merged(memory.operator, plan.operatorSeen) };
  for (const [key, spec] of desired) planDesired(spec, running.get(key), seen, plan);
  for (const s of live) {
    const key = serverKey(s);
    if (!managed.has(s.backend) || desired.has(key)) continue;
    // Being deleted from its maintenance; without it (the command's ack was lost), taken out again.
    if (memory.draining.has(key) && s.adminState & ADMIN_FMAINT) continue;
    plan.remove.push(s);
  }
  return plan;
}

/** The servers of one change against what lbwatch knows runs (`known`). */
export function planChange(
  added: readonly ServerSpec[],
  removed: readonly ServerRef[],
  known: ReadonlyMap<string, RunningServer>,
  memory: Memory,
): Plan {
  const plan = emptyPlan();
  const desiredKeys = new Set(added.map(serverKey));
  for (const ref of removed) {
    const key = serverKey(ref);
    if (known.has(key) && !desiredKeys.has(key) && !memory.draining.has(key)) plan.remove.push(ref);
  }
  for (const spec of added) planDesired(spec, known.get(serverKey(spec)), memory, plan);
  return plan;
}

/** `seen` overrides `known`; "ready" removes an entry. */
function merged(
  known: ReadonlyMap<string, Exclude<AdminState, "ready">>,
  seen: ReadonlyMap<string, AdminState>,
): Map<string, Exclude<AdminState, "ready">> {
  const out = new Map(known);
  for (const [key, state] of seen) {
    if (state === "ready") out.delete(key);
    else out.set(key, state);
  }
  return out;
}

export function isEmptyPlan(plan: Plan): boolean {
  const { add, ready, park, keep, remove, readdress } = plan;
  return (
    add.length + ready.length + park.length + keep.length + remove.length + readdress.length === 0 &&
    !plan.reload
  );
}
