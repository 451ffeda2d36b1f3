/**
 * `lbwatch agent`: the local source (kernel probe, /proc snapshot, service rules) as `run` has it,
 * delivering to the publisher instead of targets. The local source translates a wildcard listener to
 * the Config's hostAddress/hostAddress6: here those are the advertised addresses, so what it claims is
 * already where other hosts connect.
 */
import type { AgentConfig } from "../config/agent-config.js";
import { DEFAULTS } from "../config/load-config.js";
import type { Config } from "../config/types.js";
import { createEtcdClient } from "../etcd/client.js";
import type { Logger } from "../log.js";
import { readBootId, readMachineId } from "../sources/host-id.js";
import { SOURCE_FACTORIES } from "../sources/index.js";
import type { Source, SourceContext } from "../sources/source.js";
import { packageVersion } from "../version.js";
import { interfaceAddresses } from "./host-addresses.js";
import { Publisher } from "./publisher.js";

export interface AgentOptions {
  config: AgentConfig;
  log: Logger;
  /** The local source; SOURCE_FACTORIES.local unless a test hands another. */
  createLocal?: (ctx: SourceContext) => Source;
}

export interface RunningAgent {
  hostId: string;
  publisher: Publisher;
  close(): Promise<void>;
}

/** The Config the local source reads: the agent's services, wildcard listeners on the advertised addresses. */
export function localSourceConfig(agent: AgentConfig): Config {
  return {
    file: agent.file,
    hostAddress: agent.advertiseAddress,
    // Without an IPv6 address to advertise, "::" listeners are published on the IPv4 one: a dual-stack
    // socket accepts IPv4 there. The local source takes the family from this address's text.
    hostAddress6: agent.advertiseAddress6 ?? agent.advertiseAddress,
    wait: { ...DEFAULTS.wait },
    resyncMs: agent.resyncMs,
    services: agent.services,
    targets: [],
    sources: [{ kind: "local" }],
  };
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config } = options;
  const hostId = config.hostId ?? (await readMachineId());
  const bootId = await readBootId();
  const log = options.log.child({ hostId });
  const advertised = [
    config.advertiseAddress,
    ...(config.advertiseAddress6 ? [config.advertiseAddress6] : []),
  ];
  const startTime = Date.now();
  const version = packageVersion();
  const client = createEtcdClient(config.etcd);
  const publisher = new Publisher({
    client,
    etcd: config.etcd,
    hostId,
    ttlSeconds: config.etcd.ttlSeconds,
    host: () => ({
      version,
      bootId,
      startTime,
      addresses: [...new Set([...advertised, ...interfaceAddresses().map((ip) => ip.address)])],
    }),
    log: log.child({ component: "publisher" }),
  });
  const ctx: SourceContext = { config: localSourceConfig(config), log, hostId, once: false };
  const local = (options.createLocal ?? ((c) => SOURCE_FACTORIES.local(c, { kind: "local" })))(ctx);
  let resync: NodeJS.Timeout | undefined;
  const close = async () => {
    clearInterval(resync);
    await local.close();
    await publisher.close();
    client.close();
  };
  try {
    await local.start(publisher);
  } catch (err) {
    await close();
    throw err;
  }
  if (config.resyncMs > 0) {
    resync = setInterval(() => {
      local.resync("timer").catch((err: Error) => log.warn({ error: err.message }, "resync failed"));
    }, config.resyncMs);
  }
  log.info(
    {
      advertised,
      endpoints: config.etcd.endpoints,
      prefix: config.etcd.prefix,
      ttl: config.etcd.ttlSeconds,
      tls: config.etcd.tls !== undefined,
      user: config.etcd.auth?.username,
    },
    "agent publishing",
  );
  return { hostId, publisher, close };
}
