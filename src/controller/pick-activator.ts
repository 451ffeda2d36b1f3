/**
 * The one place where a target's activation method is chosen: a target with `haproxy:` set gets the
 * Runtime API activator (hitless server changes, validated reload otherwise); every other target runs
 * its `reload` argv.
 */
import type { TargetConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { type Activator, createReloadActivator } from "../targets/activator.js";
import { createHaproxyActivator } from "../targets/haproxy/activator.js";

/** `log` is the controller's; activators add the `target` field themselves. */
export function pickActivator(target: TargetConfig, log: Logger): Activator {
  return target.haproxy ? createHaproxyActivator(target, log) : createReloadActivator(target);
}
