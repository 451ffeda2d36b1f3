import { type Command, InvalidArgumentError } from "commander";
import { parseNetnsFilter } from "../config/netns-filter.js";
import { parsePortSpec, portInRanges } from "../config/ports.js";
import type { PortRange } from "../config/types.js";
import { LbwatchError } from "../errors.js";
import type { Listener } from "../probe/event.js";
import { hostNetnsInode } from "../probe/netns.js";

export interface FilterFlags {
  port?: PortRange[];
  netns?: string;
}

/** "80,443,8000-8099" → ranges; the same port syntax as the config file's `ports`. */
function parsePortList(text: string): PortRange[] {
  return text.split(",").map((part) => {
    const parsed = parsePortSpec(part.trim());
    if ("error" in parsed) throw new InvalidArgumentError(parsed.error);
    return parsed.value;
  });
}

/** Adds --port and --netns, shared by `events` and `ls`. */
export function addFilterFlags(cmd: Command): Command {
  return cmd
    .option(
      "--port <list>",
      "only these ports: comma-separated ports and ranges, e.g. 80,443,8000-8099",
      parsePortList,
    )
    .option(
      "--netns <ns>",
      "only this network namespace: its inode, host, or a path such as /run/netns/NAME",
    );
}

/** The predicate the flags describe. A bad --netns is an E_USAGE error naming the flag. */
export async function listenerFilter(flags: FilterFlags): Promise<(l: Listener) => boolean> {
  const ports = flags.port;
  let netns: number | undefined;
  if (flags.netns !== undefined) {
    const parsed = await parseNetnsFilter(/^\d+$/.test(flags.netns) ? Number(flags.netns) : flags.netns);
    if ("error" in parsed) throw new LbwatchError("E_USAGE", `option '--netns <ns>': ${parsed.error}`);
    if (parsed.value.kind === "host") netns = hostNetnsInode();
    else if (parsed.value.kind === "inode") netns = parsed.value.inode;
  }
  return (l) =>
    (ports === undefined || portInRanges(l.port, ports)) && (netns === undefined || l.netns === netns);
}
