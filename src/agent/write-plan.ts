/**
 * What an agent must write so that etcd holds its set, given what etcd holds now, and the write itself.
 * A key whose value is the same backend (every field but `since`) under the right lease is left alone:
 * so a restarted agent that adopted its predecessor's lease writes nothing for unchanged backends, and
 * a watcher sees no event at all. `since` stays as first written while the key exists.
 */
import type { ICompare, IRequestOp, KVClient } from "etcd3";
import { BACKEND_FIELDS, type BackendValue, decodeBackendValue, encodeBackendValue } from "../etcd/values.js";

export interface StoredValue {
  /** Undefined when what is stored does not decode (then it is rewritten). */
  value: BackendValue | undefined;
  lease: string;
}

export interface Plan {
  ops: IRequestOp[];
  /** What etcd holds for each planned key once the ops are applied (undefined: deleted or absent). */
  next: Map<string, BackendValue | undefined>;
}

/** etcd's default --max-txn-ops. */
export const MAX_TXN_OPS = 128;

export function sameBackend(a: BackendValue, b: BackendValue): boolean {
  return BACKEND_FIELDS.every((field) => field === "since" || a[field] === b[field]);
}

export function putOp(key: string, value: string, lease: string): IRequestOp {
  return { request_put: { key: Buffer.from(key), value: Buffer.from(value), lease } };
}

export function planBackends(
  keys: Iterable<string>,
  desired: (key: string) => BackendValue | undefined,
  stored: (key: string) => StoredValue | undefined,
  lease: string,
): Plan {
  const plan: Plan = { ops: [], next: new Map() };
  for (const key of keys) {
    const want = desired(key);
    const have = stored(key);
    if (want) {
      const value = { ...want, since: have?.value?.since ?? want.since };
      plan.next.set(key, value);
      if (!have?.value || have.lease !== lease || !sameBackend(have.value, want)) {
        plan.ops.push(putOp(key, encodeBackendValue(value), lease));
      }
    } else if (have) {
      plan.next.set(key, undefined);
      plan.ops.push({ request_delete_range: { key: Buffer.from(key) } });
    }
  }
  return plan;
}

export class TxnConflict extends Error {}

/**
 * Applies ops in transactions of at most `maxOps` (etcd refuses larger ones), `compare` guarding the
 * first; a set that fits one transaction (the usual case) is applied atomically.
 */
export async function commit(
  kv: KVClient,
  ops: IRequestOp[],
  compare: ICompare[] = [],
  maxOps = MAX_TXN_OPS,
): Promise<void> {
  for (let i = 0; i < ops.length; i += maxOps) {
    const res = await kv.txn({ compare: i === 0 ? compare : [], success: ops.slice(i, i + maxOps) });
    if (!res.succeeded) throw new TxnConflict("the host key changed under this agent");
  }
}

/** What etcd holds for each key now, read in transactions of ranges (one round trip per `maxOps`). */
export async function readStored(
  kv: KVClient,
  keys: string[],
  maxOps = MAX_TXN_OPS,
): Promise<Map<string, StoredValue>> {
  const stored = new Map<string, StoredValue>();
  for (let i = 0; i < keys.length; i += maxOps) {
    const chunk = keys.slice(i, i + maxOps);
    const res = await kv.txn({ success: chunk.map((key) => ({ request_range: { key: Buffer.from(key) } })) });
    for (const r of res.responses) {
      const [found] = r.response_range.kvs;
      if (!found) continue;
      const decoded = decodeBackendValue(found.value);
      const value = "value" in decoded ? decoded.value : undefined;
      stored.set(found.key.toString("utf8"), { value, lease: found.lease });
    }
  }
  return stored;
}
