/**
 * Handlebars' strict mode checks only the last part of a path, and only in a plain mustache: in a
 * helper argument (`{{#each services.wbe.backends}}`) and before the last part of any path it reads
 * properties of whatever it got, so a missing field fails as a bare TypeError that names neither the
 * field nor the place. This compiler makes every part but the last strict (container.strict, which
 * throws a handlebars Exception carrying the location), and the last where handlebars itself wants
 * it, so that `{{#if services.db}}` still asks whether something exists.
 */
import type Handlebars from "handlebars";

/** The parts of handlebars' JavaScriptCompiler this override uses (the package has no typings for it). */
interface CompilerInternals {
  options: { strict?: boolean };
  source: { currentLocation?: unknown };
  popStack(): unknown;
  push(expression: unknown): void;
  nameLookup(parent: unknown, name: string, type: string): unknown;
  aliasable(name: string): unknown;
  quotedString(text: string): string;
}

type ResolvePath = (
  this: CompilerInternals,
  type: string,
  parts: string[],
  start: number,
  falsy: boolean,
  strict: boolean,
) => void;

interface CompilerClass {
  new (): unknown;
  prototype: { resolvePath: ResolvePath; compiler: CompilerClass };
}

type Env = typeof Handlebars & { JavaScriptCompiler: CompilerClass };

/** Installs the compiler on `env` (one handlebars environment, not the global one). */
export function useStrictPaths(env: typeof Handlebars): void {
  const base = (env as Env).JavaScriptCompiler;
  const inherited = base.prototype.resolvePath;
  function StrictPaths() {}
  const prototype = Object.create(base.prototype) as CompilerClass["prototype"];
  StrictPaths.prototype = prototype;
  // Child programs (block bodies) are compiled by `new this.compiler()`: they must use this one too.
  prototype.compiler = StrictPaths as unknown as CompilerClass;
  prototype.resolvePath = function (type, parts, start, falsy, strict) {
    if (!this.options.strict) return inherited.call(this, type, parts, start, falsy, strict);
    // Only line and column numbers: safe as a JavaScript literal in the generated code.
    const loc = JSON.stringify(this.source.currentLocation ?? null);
    let stack = this.popStack();
    for (let i = start; i < parts.length; i++) {
      const name = parts[i] ?? "";
      stack =
        i === parts.length - 1 && !strict
          ? this.nameLookup(stack, name, type)
          : [this.aliasable("container.strict"), "(", stack, ", ", this.quotedString(name), ", ", loc, ")"];
    }
    this.push(stack);
  };
  (env as Env).JavaScriptCompiler = StrictPaths as unknown as CompilerClass;
}
