/**
 * Sources by kind: `sources:` in the config names kinds (src/config/sources.ts), and this table makes
 * each one. The controller and the agent build their sources here and never name a kind themselves.
 */
import type { EtcdSourceConfig, LocalSourceConfig, SourceConfig } from "../config/types.js";
import { createLocalSource } from "./local-source.js";
import type { Source, SourceContext } from "./source.js";

export type SourceFactory<C extends SourceConfig, S = Source> = (ctx: SourceContext, cfg: C) => S;

export const SOURCE_FACTORIES: {
  local: SourceFactory<LocalSourceConfig>;
  etcd: SourceFactory<EtcdSourceConfig, Promise<Source>>;
} = {
  local: (ctx) => createLocalSource(ctx),
  // etcd3 and its gRPC stack take ~200 ms to import (measured): only a config with etcd pays for them.
  etcd: async (ctx, cfg) => (await import("./etcd-source.js")).createEtcdSource(ctx, cfg),
};

export async function createSource(ctx: SourceContext, cfg: SourceConfig): Promise<Source> {
  return cfg.kind === "local" ? SOURCE_FACTORIES.local(ctx, cfg) : SOURCE_FACTORIES.etcd(ctx, cfg);
}

/** Every source the config names, in its order. */
export function createSources(ctx: SourceContext): Promise<Source[]> {
  return Promise.all(ctx.config.sources.map((cfg) => createSource(ctx, cfg)));
}
