/**
 * Everything under a prefix as of one revision, read in pages so that a large prefix never becomes
 * one gRPC message over the client's 4 MiB limit: the first page fixes the revision, the following
 * pages read at that same revision, so the whole listing is one consistent snapshot.
 */
import { type IKeyValue, type KVClient, Range } from "etcd3";

export interface Listing {
  revision: number;
  kvs: IKeyValue[];
}

export async function listPrefix(kv: KVClient, prefix: string, pageSize = 1000): Promise<Listing> {
  const range = Range.prefix(prefix);
  const kvs: IKeyValue[] = [];
  let start = range.start;
  let revision: number | undefined;
  for (;;) {
    const res = await kv.range({
      key: start,
      range_end: range.end,
      limit: pageSize,
      ...(revision === undefined ? {} : { revision }),
    });
    revision ??= Number(res.header.revision);
    kvs.push(...res.kvs);
    const last = res.kvs.at(-1);
    if (!res.more || !last) return { revision, kvs };
    // The smallest key after the last one read.
    start = Buffer.concat([last.key, Buffer.from([0])]);
  }
}
