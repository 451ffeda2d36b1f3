/**
 * The sources of a config, from a table of kinds: the controller is handed what this returns and
 * never learns which kinds it has.
 */
import { createLocalSource } from "./local-source.js";
import type { Source, SourceContext } from "./source.js";

export function createSources(context: SourceContext): Source[] {
  return [createLocalSource(context)];
}
