import type { Command } from "commander";
import type { ListenEvent } from "../probe/event.js";
import { ListenProbe, type LostInfo } from "../probe/listen-probe.js";
import { addFilterFlags, type FilterFlags, listenerFilter } from "./filters.js";
import { EVENT_HEADER, eventJsonLine, eventRow, monotonicToWallOffset } from "./format.js";
import { createLineWriter } from "./line-writer.js";

interface EventsFlags extends FilterFlags {
  json?: boolean;
}

function lostLine({ drops, reason }: LostInfo): string {
  const what = `lbwatch: lost ${drops} event${drops === 1 ? "" : "s"}`;
  return reason === "ring-full"
    ? `${what} (ring buffer full): listeners opened or closed meanwhile may be missing; compare with 'lbwatch ls'\n`
    : `${what} (the port of a listen could not be resolved from /proc)\n`;
}

/** Streams events until SIGINT/SIGTERM, a closed stdout, or a probe error (rethrown: exit 1). */
async function streamEvents(flags: EventsFlags): Promise<void> {
  const keep = await listenerFilter(flags);
  const probe = ListenProbe.open();
  const out = createLineWriter(process.stdout);
  const wallOffset = monotonicToWallOffset();
  const format = flags.json ? eventJsonLine : (ev: ListenEvent) => eventRow(ev, wallOffset);
  if (!flags.json) out.write(EVENT_HEADER);
  probe.on("event", (ev) => {
    if (keep(ev)) out.write(format(ev));
  });
  probe.on("lost", (info) => process.stderr.write(lostLine(info)));
  const signals = ["SIGINT", "SIGTERM"] as const;
  let stop = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      stop = resolve;
      for (const s of signals) process.once(s, resolve);
      probe.once("error", reject);
      // `lbwatch events | head`: the reader went away, which is a normal way to stop.
      out.onClosed(resolve);
    });
  } finally {
    for (const s of signals) process.off(s, stop);
    probe.close();
    out.flush();
  }
}

export function register(program: Command): void {
  addFilterFlags(
    program
      .command("events")
      .description("stream TCP listen/close events from the kernel, like bcc's solisten")
      .option(
        "--json",
        "one JSON object per line: type, pid, comm, uid, netns, family, addr, port, backlog, sock, ts",
      ),
  ).action((flags: EventsFlags) => streamEvents(flags));
}
