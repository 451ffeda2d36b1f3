/**
 * Handlebars templates, compiled once per file: no HTML escaping (these are config files) and strict
 * (a reference to a missing field is an error, not an empty string). Every error, at compile or render
 * time, is an E_TEMPLATE naming `file:line:column`, followed by the source line and a caret.
 */
import { readFile } from "node:fs/promises";
import Handlebars from "handlebars";
import { LbwatchError } from "../errors.js";
import type { RenderContext } from "./context.js";
import { helpers, strictBlockHelpers } from "./helpers.js";
import { inlineStaticPartials, partialUse } from "./partials.js";
import { useStrictPaths } from "./strict-paths.js";

export interface CompiledTemplate {
  readonly file: string;
  /** Throws LbwatchError E_TEMPLATE (e.g. a missing field under strict mode). */
  render(context: RenderContext): string;
}

const env = Handlebars.create();
env.registerHelper(helpers);
env.registerHelper(strictBlockHelpers(env));
useStrictPaths(env);
const OPTIONS: CompileOptions = {
  noEscape: true,
  strict: true,
  // Unknown helpers are refused when compiling, not discovered on the first render.
  knownHelpers: Object.fromEntries(Object.keys(helpers).map((name) => [name, true])),
  knownHelpersOnly: true,
};

interface JisonLocation {
  first_line: number;
  first_column: number;
}

type PartialCalls = Map<string, hbs.AST.SourceLocation>;

const MISSING_PARTIAL = /^The partial (.*) could not be found$/;

/**
 * Where handlebars says an error is: 1-based line, 1-based column (handlebars counts columns from 0).
 * A partial it cannot find is reported without one: the first call of that name is the place.
 */
function locate(err: unknown, partials: PartialCalls): { line: number; column: number } | undefined {
  const e = err as { lineNumber?: number; column?: number; message?: string };
  if (typeof e.lineNumber === "number") return { line: e.lineNumber, column: (e.column ?? 0) + 1 };
  const call = partials.get(MISSING_PARTIAL.exec(e.message ?? "")?.[1] ?? "");
  if (call) return { line: call.start.line, column: call.start.column + 1 };
  // The jison parser drops the location it knows when it throws; its shared lexer still holds the
  // offending token's position (parsing is synchronous, so nothing has moved it since).
  const parser = (Handlebars as unknown as { Parser?: { lexer?: { yylloc?: JisonLocation } } }).Parser;
  const at = parser?.lexer?.yylloc;
  if (e.message?.startsWith("Parse error") && at) return { line: at.first_line, column: at.first_column + 1 };
  return undefined;
}

/** The message without handlebars' own position suffix, excerpt or object dump. */
function cleanMessage(message: string): string {
  if (message.startsWith("Parse error")) return `parse error: ${message.split("\n").at(-1)}`;
  return message.replace(/ - \d+:\d+$/, "").replace(/^("[^"]*" not defined) in .*$/, "$1");
}

function templateError(
  file: string,
  source: string,
  err: unknown,
  stage: "compile" | "render",
  partials: PartialCalls = new Map(),
): LbwatchError {
  const message = cleanMessage(err instanceof Error ? err.message : String(err));
  const at = locate(err, partials);
  if (!at) return new LbwatchError("E_TEMPLATE", `${file}: ${stage} failed: ${message}`, { cause: err });
  const line = source.split("\n")[at.line - 1] ?? "";
  const caret = `${" ".repeat(Math.max(0, at.column - 1))}^`;
  return new LbwatchError("E_TEMPLATE", `${file}:${at.line}:${at.column}: ${message}\n${line}\n${caret}`, {
    cause: err,
  });
}

/** Compiles template text; `file` names it in errors. */
export function compileTemplateText(source: string, file: string): CompiledTemplate {
  let run: HandlebarsTemplateDelegate;
  let partials: PartialCalls = new Map();
  try {
    const ast = env.parse(source);
    const use = partialUse(ast);
    partials = use.calls;
    for (const [name, loc] of use.calls) {
      if (!use.defined.has(name)) {
        throw new Handlebars.Exception(
          `no partial named "${name}": a template can call only the inline partials it defines ({{#*inline "${name}"}}…{{/inline}})`,
          { loc } as ConstructorParameters<typeof Handlebars.Exception>[1],
        );
      }
    }
    const rewritten = inlineStaticPartials(ast);
    // precompile runs the whole compiler now (compile alone defers it to the first render).
    env.precompile(rewritten, OPTIONS);
    run = env.compile(rewritten, OPTIONS);
  } catch (err) {
    throw templateError(file, source, err, "compile");
  }
  return {
    file,
    render(context) {
      try {
        return run(context);
      } catch (err) {
        throw templateError(file, source, err, "render", partials);
      }
    },
  };
}

export async function compileTemplate(file: string): Promise<CompiledTemplate> {
  const source = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new LbwatchError("E_TEMPLATE", `${file}: cannot read the template (${err.code ?? err.message})`, {
      cause: err,
    });
  });
  return compileTemplateText(source, file);
}
