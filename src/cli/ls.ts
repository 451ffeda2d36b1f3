import type { Command } from "commander";
import { snapshot } from "../probe/snapshot.js";
import { addFilterFlags, type FilterFlags, listenerFilter } from "./filters.js";
import { listenerJson, listenerTable } from "./format.js";

interface LsFlags extends FilterFlags {
  json?: boolean;
}

async function list(flags: LsFlags): Promise<void> {
  const keep = await listenerFilter(flags);
  const listeners = (await snapshot()).filter(keep);
  const text = flags.json ? JSON.stringify(listeners.map(listenerJson)) : listenerTable(listeners);
  process.stdout.write(`${text}\n`);
  // A socket whose holder's /proc/PID/fd we cannot read has pid 0: say how many, or a non-root
  // `ls` looks complete while it hides every other user's processes.
  const hidden = listeners.filter((l) => l.pid === 0).length;
  if (hidden > 0) {
    const hint = process.geteuid?.() === 0 ? "" : " (run as root to see every process)";
    process.stderr.write(
      `lbwatch: the owning process of ${hidden} socket(s) could not be seen: pid -${hint}\n`,
    );
  }
}

export function register(program: Command): void {
  addFilterFlags(
    program
      .command("ls")
      .description("list TCP listeners in every network namespace, like `ss -ltnp` plus netns and comm")
      .option(
        "--json",
        "one JSON array of objects: pid, comm, uid, netns, family, addr, port, backlog, sock",
      ),
  ).action((flags: LsFlags) => list(flags));
}
