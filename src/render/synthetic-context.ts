/**
 * The contexts `lbwatch check` renders each template against, so that it finds the render errors
 * `run` would meet (a misspelt field, a wrong helper call, a meta value the template refuses), not
 * only syntax errors: every service with one backend of each family and one waiting to be ready,
 * and every service empty. They go through buildContext, from backends made the way the registry
 * makes them, with each service's meta, so their shape is the real one by construction.
 */
import type { ServiceRule } from "../config/types.js";
import { type Backend, makeBackend } from "../registry/backend.js";
import type { BackendClaim } from "../sources/source.js";
import { buildContext, type RenderContext } from "./context.js";

/** Documentation addresses (RFC 5737, RFC 3849): they never name a real backend. */
const ADDRESSES = [
  { family: 4, address: "192.0.2.1", ready: true },
  { family: 6, address: "2001:db8::1", ready: true },
  { family: 4, address: "192.0.2.2", ready: false },
] as const;

const PROCESS = {
  pid: 4242,
  comm: "synthetic",
  uid: 0,
  netns: 4026531840,
  backlog: 4096,
  host: "synthetic",
  since: 0,
};

export interface SyntheticContext {
  /** What the context holds, for messages. */
  name: string;
  context: RenderContext;
}

export function syntheticContexts(services: readonly ServiceRule[]): SyntheticContext[] {
  const backends: Backend[] = services.flatMap((rule) => {
    const port = rule.ports[0]?.from ?? 1;
    return ADDRESSES.map(({ ready, ...ip }, i) => {
      const claim: BackendClaim = { ...PROCESS, key: ip.address, service: rule.name, ...ip, port };
      return makeBackend("synthetic", claim, 0, ready, i + 1);
    });
  });
  return [
    {
      name: "every service with one IPv4 and one IPv6 backend, and one waiting",
      context: buildContext(services, backends),
    },
    { name: "every service without backends", context: buildContext(services, []) },
  ];
}
