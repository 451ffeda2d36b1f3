/**
 * `sources:` of lbwatch run: a list of one-key mappings, each naming a kind and its settings.
 *
 *   sources:
 *     - local: {}
 *     - etcd: { endpoints: ["https://10.0.0.1:2379"], prefix: /lbwatch, tls: {…}, auth: {…} }
 */
import { ETCD_KEYS, parseEtcdConnection } from "./etcd.js";
import { checkMapping, isPlainObject, keyPath, type Problems } from "./problems.js";
import type { SourceConfig } from "./types.js";

const KINDS = ["local", "etcd"] as const;

export const DEFAULT_SOURCES: readonly SourceConfig[] = [{ kind: "local" }];

/** `base`: the config file's directory, where relative file names (tls, auth) start. */
export async function parseSources(
  value: unknown,
  base: string,
  problems: Problems,
): Promise<SourceConfig[]> {
  if (value === undefined) return [...DEFAULT_SOURCES];
  if (!Array.isArray(value) || value.length === 0) {
    problems.add("sources", "must be a non-empty list such as [{local: {}}, {etcd: {endpoints: [...]}}]");
    return [...DEFAULT_SOURCES];
  }
  const hasLocal = value.some((entry) => isPlainObject(entry) && "local" in entry);
  const sources: SourceConfig[] = [];
  let etcdCount = 0;
  for (const [i, entry] of value.entries()) {
    const path = keyPath("sources", i);
    const kinds = isPlainObject(entry) ? Object.keys(entry) : [];
    if (kinds.length !== 1) {
      problems.add(path, `must be a mapping with exactly one key: ${KINDS.join(" or ")}`);
      continue;
    }
    const [kind = ""] = kinds;
    const raw = checkMapping(entry, KINDS, path, problems);
    const settingsPath = keyPath(path, kind);
    if (kind === "local") {
      const settings = raw?.local ?? {};
      if (!isPlainObject(settings) || Object.keys(settings).length > 0) {
        problems.add(settingsPath, "takes no settings: write local: {}");
      }
      if (sources.some((s) => s.kind === "local")) problems.add(path, "only one local source is possible");
      else sources.push({ kind: "local" });
    } else if (kind === "etcd") {
      const settings = checkMapping(raw?.etcd, ETCD_KEYS, settingsPath, problems);
      if (!settings) continue;
      sources.push({
        kind: "etcd",
        id: `etcd-${etcdCount++}`,
        ...(await parseEtcdConnection(settings, settingsPath, base, problems)),
        skipLocalHost: hasLocal,
      });
    }
  }
  return sources;
}
