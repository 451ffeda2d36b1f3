/**
 * GET /status as a stream: the backends are walked and serialised in slices of at most SLICE_MS,
 * with setImmediate between them, so kernel events and applies run between slices instead of
 * waiting for a 100,000-backend JSON document (about 50 ms in one go). The walk over the live
 * registry is not atomic: it shows the backends that exist when each is serialised.
 */
import type { ServerResponse } from "node:http";
import type { StatusBackend, StatusSummary } from "../controller/controller.js";
import { type Backend, backendKey } from "../registry/backend.js";

/** What the status body reads: the Controller, or a test's stand-in. */
export interface StatusView {
  summary(): StatusSummary;
  backends(): IterableIterator<Backend>;
  /** The backend of that service and id now, if any. */
  backend(service: string, id: string): Backend | undefined;
  statusOf(backend: Backend): StatusBackend;
}

/** Longest stretch the event loop is held; the clock is read every CHECK_EVERY items. */
const SLICE_MS = 0.5;
const CHECK_EVERY = 64;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Calls `step` for each item, yielding to the event loop whenever a slice's time is up; `flush` runs
 * at the end of each slice (and of the walk). Stops early when `stopped()` says so.
 */
async function sliced<T>(
  items: Iterator<T>,
  step: (item: T) => void,
  flush: () => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  for (;;) {
    const end = performance.now() + SLICE_MS;
    for (let n = 1; ; n++) {
      const next = items.next();
      if (next.done) return flush();
      step(next.value);
      if (n % CHECK_EVERY === 0 && performance.now() >= end) break;
    }
    await flush();
    if (stopped()) return;
    await nextTurn();
  }
}

/** Writes, waiting for the socket to drain when its buffer is full (a slow client costs memory, not time). */
function writer(res: ServerResponse): { write(text: string): Promise<void>; gone(): boolean } {
  const gone = () => res.destroyed || res.writableEnded;
  return {
    gone,
    async write(text) {
      if (text === "" || gone() || res.write(text)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done).on("close", done);
      });
    },
  };
}

/** Streams `{"services":{NAME:[backend…]…},"sources":…,"targets":…,"pending":…,"lost":…,"resyncs":…}`. */
export async function writeStatus(view: StatusView, res: ServerResponse): Promise<void> {
  const out = writer(res);
  const { services: names, ...rest } = view.summary();
  // First walk: references grouped by service. Nothing per backend is kept but the reference: a
  // set of 100,000 keys would be young strings that every scavenge copies, pausing the loop.
  const groups = new Map<string, Backend[]>(names.map((name) => [name, []]));
  await sliced(
    view.backends(),
    (b) => {
      groups.get(b.service)?.push(b);
    },
    async () => {},
    out.gone,
  );
  if (out.gone()) return;
  let pending = '{"services":{';
  let first = true;
  for (const [name, backends] of groups) {
    pending += `${first ? "" : ","}${JSON.stringify(name)}:[`;
    first = false;
    let firstBackend = true;
    // Each backend is shown as it is now; one removed since the first walk met it is left out. One
    // removed and added again during that walk was met twice: shown once, when first met.
    const redirected = new Set<string>();
    await sliced(
      backends.values(),
      (met) => {
        const now = view.backend(met.service, met.id);
        if (!now || (redirected.size > 0 && redirected.has(backendKey(now)))) return;
        if (now !== met) redirected.add(backendKey(now));
        pending += (firstBackend ? "" : ",") + JSON.stringify(view.statusOf(now));
        firstBackend = false;
      },
      async () => {
        const text = pending;
        pending = "";
        await out.write(text);
      },
      out.gone,
    );
    if (out.gone()) return;
    pending += "]";
  }
  const tail = JSON.stringify(rest);
  await out.write(`${pending}},${tail.slice(1)}\n`);
  res.end();
}
