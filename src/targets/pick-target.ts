/**
 * Which implementation keeps a configured target: a table of kinds, the first that applies wins. A
 * HAProxy target with a Runtime API socket gets the live reconciler; every other target (and every
 * target under --dry-run, which must not touch a load balancer) the file reconciler.
 */
import type { Config, TargetConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { FileTarget, type TargetDeps } from "./file-target.js";
import { HaproxyTarget } from "./haproxy/haproxy-target.js";
import type { DryRun } from "./rendered-file.js";
import type { DesiredState, Renderer, Target, TargetObserver } from "./target.js";

interface Kind {
  applies(target: TargetConfig, dryRun: boolean): boolean;
  create(deps: TargetDeps): Target;
}

const KINDS: Kind[] = [
  {
    applies: (t, dryRun) => !dryRun && t.haproxy?.runtimeSocket !== undefined,
    create: (d) => new HaproxyTarget(d),
  },
  { applies: () => true, create: (d) => new FileTarget(d) },
];

export interface CreateTargetsOptions {
  desired: DesiredState;
  log: Logger;
  clock: () => bigint;
  dryRun?: DryRun;
  observer?: TargetObserver;
  /** Compiles a template file; throws E_TEMPLATE (file:line:column). */
  compile(file: string): Promise<Renderer>;
}

/** One target per configured target, in config order; every template compiled first. */
export async function createTargets(config: Config, options: CreateTargetsOptions): Promise<Target[]> {
  const { compile, ...shared } = options;
  const renderers = await Promise.all(config.targets.map((t) => compile(t.template)));
  return config.targets.map((target, i) => {
    const kind = KINDS.find((k) => k.applies(target, options.dryRun !== undefined)) as Kind;
    return kind.create({ ...shared, config: target, renderer: renderers[i] as Renderer, wait: config.wait });
  });
}
