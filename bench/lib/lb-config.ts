/**
 * The HAProxy configuration every contender runs: lbwatch's shipped template,
 * templates/haproxy.cfg.hbs (one frontend, a backend per service chosen by Host header). lbwatch and
 * the poller render it through lbwatch's own code; the health-check contenders get it rendered once
 * with every candidate port as a server and check options in its "server-options" partial, which is
 * how the template tells users to turn health checks on.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ServiceRule } from "../../src/config/types.js";
import type { Backend } from "../../src/registry/backend.js";
import { backendId, endpointOf } from "../../src/registry/backend-id.js";
import { buildContext } from "../../src/render/context.js";
import { compileTemplateText } from "../../src/render/template.js";
import { REPO_DIR } from "./helpers.js";
import {
  CHURN_POOL,
  churnAddress,
  idleEndpoint,
  idleService,
  idleServiceOf,
  type Layout,
} from "./lb-layout.js";

export const TEMPLATE = join(REPO_DIR, "templates", "haproxy.cfg.hbs");

export interface CheckTimers {
  name: string;
  /** The services' `meta.check`: the shipped template puts `check <this>` on every server line. */
  check: string;
}

export const DEFAULT_CHECKS: CheckTimers = { name: "hc-default", check: "inter 2s rise 2 fall 3" };
export const AGGRESSIVE_CHECKS: CheckTimers = { name: "hc-aggressive", check: "inter 100ms rise 1 fall 1" };

/** The services of a run by name and ports, port-only (the poller cannot see processes). */
function servicePorts(layout: Layout): [string, number[]][] {
  return [
    ["churn", [layout.churnPort]],
    ...layout.idlePorts.map((p, i): [string, number[]] => [idleService(i), [p]]),
    ["probe", layout.probePorts],
    ["web", layout.webPorts],
  ];
}

/**
 * `check`: the services' meta.check, the shipped template's health check (false: none). A connect
 * check (`tcp-check`, not the template's HTTP default): the helpers do not all speak HTTP, and a
 * connect is what learns fastest that a listener is there.
 */
export function services(layout: Layout, check: string | false = false): ServiceRule[] {
  const meta: Record<string, string | false> =
    check === false ? { check } : { check, checkOption: "tcp-check" };
  return servicePorts(layout).map(([name, ports]) => ({
    name,
    ports: ports.map((p) => ({ from: p, to: p })),
    netns: { kind: "any" },
    meta,
  }));
}

/** HAProxy's environment: the template takes its bind address and stats socket from it. */
export function haproxyEnv(layout: Layout): Record<string, string> {
  return {
    LBWATCH_HAPROXY_BIND: `127.0.0.1:${layout.frontend}`,
    LBWATCH_HAPROXY_STATS_SOCKET: layout.haproxy.runtimeSocket,
  };
}

/** `slot` numbers each service's candidates from 1, as the registry does. */
function candidate(service: string, address: string, port: number, slot: number): Backend {
  return {
    id: backendId(4, address, port),
    service,
    address,
    port,
    endpoint: endpointOf(4, address, port),
    family: 4,
    host: "bench",
    pid: 0,
    comm: "",
    uid: 0,
    netns: 0,
    backlog: 0,
    source: "bench",
    claim: `${address}:${port}`,
    since: 0,
    ready: true,
    slot,
  };
}

/** The template rendered with no backends: what HAProxy starts with before a controller's first apply. */
export async function emptyConfig(layout: Layout): Promise<string> {
  const template = compileTemplateText(await readFile(TEMPLATE, "utf8"), TEMPLATE);
  return template.render(buildContext(services(layout), []));
}

/** Every candidate (web, probe, churn and idle listeners) declared up front with the given check options. */
export async function healthCheckConfig(layout: Layout, timers: CheckTimers): Promise<string> {
  const source = await readFile(TEMPLATE, "utf8");
  const backends = [
    ...layout.webPorts.map((p, i) => candidate("web", "127.0.0.1", p, i + 1)),
    ...layout.probePorts.map((p, i) => candidate("probe", "127.0.0.1", p, i + 1)),
    ...Array.from({ length: CHURN_POOL }, (_, i) =>
      candidate("churn", churnAddress(i), layout.churnPort, i + 1),
    ),
    ...Array.from({ length: layout.idleCount }, (_, i) => {
      const { address, port } = idleEndpoint(layout, i);
      // Idle listeners fill their services in turn (lb-layout.ts): every one of a service has its own i.
      return candidate(idleServiceOf(layout, i), address, port, i + 1);
    }),
  ];
  return compileTemplateText(source, TEMPLATE).render(buildContext(services(layout, timers.check), backends));
}

/**
 * lbwatch's config, as README recommends it (wait defaults, `haproxy -c` on each staged file before
 * it goes live): `runtimeApi` false leaves only the master socket, so every change is a reload.
 * The resync timer is off: a run measures changes, and idle windows must not catch a resync. The
 * template's slow health check (the liveness safety net) is off: the contenders compare lbwatch's
 * events with health checks, and an idle helper listener does not answer HTTP checks.
 */
export function lbwatchConfig(layout: Layout, options: { runtimeApi: boolean }): string {
  const h = layout.haproxy;
  const serviceLines = servicePorts(layout).map(
    ([name, ports]) => `  ${name}: { ports: [${ports.join(", ")}], meta: { check: false } }`,
  );
  return `resync: 0s
services:
${serviceLines.join("\n")}
targets:
  - template: ${TEMPLATE}
    dest: ${h.config}
    check: [haproxy, -c, -q, -f, "{staged}"]
    haproxy:
      masterSocket: ${h.masterSocket}
${options.runtimeApi ? `      runtimeSocket: ${h.runtimeSocket}\n` : ""}`;
}
