import type { ListenEvent, Listener } from "./event.js";
import { snapshot as procSnapshot } from "./snapshot.js";

export type ApplyResult = "added" | "removed" | "unchanged";

export interface ListenerDiff {
  added: Listener[];
  removed: Listener[];
  /**
   * Sockets the table had wrong: in it but not in the snapshot, or the reverse, and with no event
   * while the snapshot was taken. A socket that listened or closed meanwhile was not wrong, only
   * moving; counting it would report drift on every resync of a busy host.
   */
  wrong: Listener[];
}

function toListener({ type: _type, ts: _ts, ...listener }: ListenEvent): Listener {
  return listener;
}

/** The current listeners, keyed by socket identity (`sock`): each socket is in the table at most once. */
export class ListenerTable {
  readonly #bySock = new Map<number, Listener>();

  /**
   * A listen adds the socket or, when it is already present (seeded by a snapshot, or replayed),
   * refreshes its fields from the event and reports "unchanged". A close removes it; a close of an
   * unknown socket (a failed listen already removed, a socket the snapshot never saw) is "unchanged".
   */
  apply(ev: ListenEvent): ApplyResult {
    if (ev.type === "listen") {
      const had = this.#bySock.has(ev.sock);
      this.#bySock.set(ev.sock, toListener(ev));
      return had ? "unchanged" : "added";
    }
    return this.#bySock.delete(ev.sock) ? "removed" : "unchanged";
  }

  /** Replaces the contents with `snapshot`; a socket in both takes the snapshot's fields. */
  reconcile(snapshot: Listener[]): void {
    this.#bySock.clear();
    for (const l of snapshot) this.#bySock.set(l.sock, l);
  }

  get(sock: number): Listener | undefined {
    return this.#bySock.get(sock);
  }

  values(): IterableIterator<Listener> {
    return this.#bySock.values();
  }

  get size(): number {
    return this.#bySock.size;
  }
}

/** The part of ListenProbe the merge uses (ListenProbe satisfies it; unit tests pass an EventEmitter). */
export interface ListenEventSource {
  on(event: "event", listener: (ev: ListenEvent) => void): unknown;
  off(event: "event", listener: (ev: ListenEvent) => void): unknown;
}

export interface Listening {
  /** Kept current: seeded by the snapshot, then every live event is applied before onEvent sees it. */
  readonly table: ListenerTable;
  /** The listeners once the snapshot was merged with the events buffered while it was taken. */
  readonly initial: Listener[];
  /**
   * Takes a fresh snapshot with the same buffer-and-replay merge (after a 'lost' signal, or on a
   * timer) and returns the net change of the table. Events that arrive meanwhile are folded into
   * that change, not passed to onEvent. Calls are serialised.
   */
  resync(): Promise<ListenerDiff>;
  /** Stops following the probe (the probe itself stays open: its owner closes it). */
  stop(): void;
}

export interface StartListeningOptions {
  /** Where the snapshot comes from; the /proc snapshot by default. */
  snapshot?: () => Promise<Listener[]>;
  /**
   * Events that arrived while a snapshot was taken and did not fit the buffer (a flood): they are
   * lost as a full ring loses them, and the caller must resync. Called after that merge.
   */
  onOverflow?: (dropped: number) => void;
  /** How many events a snapshot may buffer; default 20,000 (a few MB). */
  maxBuffered?: number;
}

/**
 * A flood of listen/close (any local user can make one) must not buffer without bound while a
 * snapshot is taken: past this, events are dropped and counted, and the caller resyncs.
 */
const MAX_BUFFERED = 20_000;

/**
 * Merges the /proc snapshot with the live stream so that every listener is seen exactly once.
 *
 * Order: the probe is already open (attached), so every transition from now on is queued; we
 * subscribe and buffer events, take the snapshot, seed the table with it, replay the buffer in order,
 * and from then on apply live events as they come.
 *
 * Why there are no gaps: take any socket. If it made no listen/close transition after the probe
 * attached, it was in the same state during the whole snapshot, so the snapshot reports it truly.
 * If it made transitions, each one is in the buffer or arrives live, and events for one socket come
 * in kernel order, so its entry ends in the state of its last transition, whatever the snapshot saw
 * of it. Nothing is dropped silently: a ring-buffer overflow raises 'lost' (subscribe to it before
 * calling this; when it fires, even during this call, call resync()). Why no duplicates: the table is keyed by socket inode, so a socket seen by both
 * the snapshot and a replayed listen is one entry (the event's fields win: they name the caller).
 * Socket inodes are unique among live sockets, so two listeners never share a key.
 */
export async function startListening(
  probe: ListenEventSource,
  onEvent?: (ev: ListenEvent, result: ApplyResult) => void,
  options: StartListeningOptions = {},
): Promise<Listening> {
  const takeSnapshot = options.snapshot ?? procSnapshot;
  const maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
  const table = new ListenerTable();
  let buffer: ListenEvent[] | undefined = [];
  let dropped = 0;
  let started = false;
  const handler = (ev: ListenEvent) => {
    if (buffer) {
      if (buffer.length < maxBuffered) buffer.push(ev);
      else dropped++;
      return;
    }
    onEvent?.(ev, table.apply(ev));
  };
  const reportDropped = () => {
    if (dropped === 0) return;
    const count = dropped;
    dropped = 0;
    options.onOverflow?.(count);
  };
  probe.on("event", handler);

  /** Snapshot while buffering, then seed and replay; returns the table's net change. */
  const merge = async (): Promise<ListenerDiff> => {
    buffer ??= [];
    let snap: Listener[];
    try {
      snap = await takeSnapshot();
    } catch (err) {
      // No snapshot: the table stays as it was and what arrived meanwhile is delivered as live
      // (at start-up there is no caller yet to deliver to).
      const pending = buffer;
      buffer = undefined;
      if (started) for (const ev of pending) onEvent?.(ev, table.apply(ev));
      throw err;
    }
    const before = new Map(Array.from(table.values(), (l) => [l.sock, l]));
    const moving = new Set(buffer.map((ev) => ev.sock));
    const seen = new Set(snap.map((l) => l.sock));
    const wrong = [
      ...snap.filter((l) => !before.has(l.sock) && !moving.has(l.sock)),
      ...Array.from(before.values()).filter((l) => !seen.has(l.sock) && !moving.has(l.sock)),
    ];
    table.reconcile(snap);
    for (const ev of buffer) table.apply(ev);
    buffer = undefined;
    queueMicrotask(reportDropped);
    return {
      added: Array.from(table.values()).filter((l) => !before.has(l.sock)),
      removed: Array.from(before.values()).filter((l) => table.get(l.sock) === undefined),
      wrong,
    };
  };

  try {
    await merge();
  } catch (err) {
    probe.off("event", handler);
    throw err;
  }
  started = true;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    table,
    initial: Array.from(table.values()),
    resync() {
      const run = queue.then(merge, merge);
      queue = run;
      return run;
    },
    stop() {
      probe.off("event", handler);
    },
  };
}
