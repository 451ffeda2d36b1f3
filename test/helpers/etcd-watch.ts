/** Records every event under a prefix from a revision on, through a real etcd watch. */
import type { Etcd3, Watcher } from "etcd3";

export interface RecordedEvent {
  type: "put" | "delete";
  key: string;
  value: string;
  revision: number;
  lease: string;
}

export interface EventRecorder {
  events: RecordedEvent[];
  stop(): Promise<void>;
}

export async function recordEvents(
  client: Etcd3,
  prefix: string,
  fromRevision?: number,
): Promise<EventRecorder> {
  const builder = client.watch().prefix(prefix);
  if (fromRevision !== undefined) builder.startRevision(String(fromRevision));
  const watcher: Watcher = await builder.create();
  const events: RecordedEvent[] = [];
  watcher.on("data", (res) => {
    for (const ev of res.events) {
      events.push({
        type: ev.type === "Delete" ? "delete" : "put",
        key: ev.kv.key.toString(),
        value: ev.kv.value.toString(),
        revision: Number(ev.kv.mod_revision),
        lease: ev.kv.lease,
      });
    }
  });
  return { events, stop: () => watcher.cancel() };
}
