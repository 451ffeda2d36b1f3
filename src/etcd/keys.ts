/**
 * The key layout under a prefix, shared by agents (writers) and the etcd source (reader):
 *
 *   <prefix>/v1/backends/<service>/<hostId>/<backend id>   one per backend, JSON (values.ts)
 *   <prefix>/v1/hosts/<hostId>                             one per agent, JSON (values.ts)
 *
 * "v1" names the value schema: a later one goes beside it, so old and new readers can share a prefix.
 * The backend id is the one templates see (src/registry/backend-id.ts): it holds no "/".
 */

/** A hostId ends up in keys and in templates: plain text, as a hostname would be. */
export const HOST_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;

export interface KeyLayout {
  /** `<prefix>/v1/`: everything a reader lists and watches. */
  readonly root: string;
  readonly backends: string;
  readonly hosts: string;
}

export function keyLayout(prefix: string): KeyLayout {
  const root = `${prefix}/v1/`;
  return { root, backends: `${root}backends/`, hosts: `${root}hosts/` };
}

export function backendKey(layout: KeyLayout, service: string, hostId: string, id: string): string {
  return `${layout.backends}${service}/${hostId}/${id}`;
}

export function hostKey(layout: KeyLayout, hostId: string): string {
  return `${layout.hosts}${hostId}`;
}

export type ParsedKey =
  | { kind: "backend"; service: string; hostId: string; id: string }
  | { kind: "host"; hostId: string }
  | { kind: "unknown"; why: string };

/** What a key under `layout.root` names; anything else is "unknown", with why, for the warning. */
export function parseKey(layout: KeyLayout, key: string): ParsedKey {
  if (key.startsWith(layout.hosts)) {
    const hostId = key.slice(layout.hosts.length);
    return HOST_ID.test(hostId) ? { kind: "host", hostId } : { kind: "unknown", why: "not a valid hostId" };
  }
  if (!key.startsWith(layout.backends)) {
    return { kind: "unknown", why: "neither under backends/ nor under hosts/" };
  }
  const parts = key.slice(layout.backends.length).split("/");
  const [service, hostId, id] = parts;
  if (parts.length !== 3 || !service || !hostId || !id) {
    return { kind: "unknown", why: "not backends/<service>/<hostId>/<backend id>" };
  }
  if (!HOST_ID.test(hostId)) return { kind: "unknown", why: "not a valid hostId" };
  return { kind: "backend", service, hostId, id };
}
