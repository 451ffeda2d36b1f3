/**
 * Sources by kind: `sources:` in the config names kinds (src/config/sources.ts), and this table makes
 * each one. The controller and the agent build their sources here and never name a kind themselves.
 */
import type { EtcdSourceConfig, LocalSourceConfig, SourceConfig } from "../config/types.js";
import { createEtcdSource } from "./etcd-source.js";
import { createLocalSource } from "./local-source.js";
import type { Source, SourceContext } from "./source.js";

export type SourceFactory<C extends SourceConfig> = (ctx: SourceContext, cfg: C) => Source;

export const SOURCE_FACTORIES: {
  local: SourceFactory<LocalSourceConfig>;
  etcd: SourceFactory<EtcdSourceConfig>;
} = {
  local: (ctx) => createLocalSource(ctx),
  etcd: (ctx, cfg) => createEtcdSource(ctx, cfg),
};

export function createSource(ctx: SourceContext, cfg: SourceConfig): Source {
  return cfg.kind === "local" ? SOURCE_FACTORIES.local(ctx, cfg) : SOURCE_FACTORIES.etcd(ctx, cfg);
}

/** Every source the config names, in its order. */
export function createSources(ctx: SourceContext): Source[] {
  return ctx.config.sources.map((cfg) => createSource(ctx, cfg));
}
