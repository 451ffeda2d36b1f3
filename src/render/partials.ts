/**
 * lbwatch registers no file partials, so a template can only call the inline partials it defines
 * (`{{#*inline "name"}}`). Handlebars finds a missing one only when it renders the call, and then
 * without a location; the template's syntax tree knows both the definitions and the calls.
 */
import Handlebars from "handlebars";

/** The name an `{{#*inline "name"}}` block defines, else undefined. */
function inlineName(block: hbs.AST.DecoratorBlock): string | undefined {
  const [name] = block.params;
  return block.path.original === "inline" && name?.type === "StringLiteral"
    ? (name as hbs.AST.StringLiteral).value
    : undefined;
}

class PartialUse extends Handlebars.Visitor {
  readonly defined = new Set<string>();
  /** How often each name is defined, anywhere (an inner definition shadows an outer one in its block). */
  readonly definitions = new Map<string, number>();
  readonly calls: hbs.AST.PartialStatement[] = [];

  override DecoratorBlock(block: hbs.AST.DecoratorBlock): void {
    const name = inlineName(block);
    if (name !== undefined) {
      this.defined.add(name);
      this.definitions.set(name, (this.definitions.get(name) ?? 0) + 1);
    }
    super.DecoratorBlock(block);
  }

  override PartialStatement(partial: hbs.AST.PartialStatement): void {
    this.calls.push(partial);
    super.PartialStatement(partial);
  }
}

/** Static name of a partial call; undefined for a dynamic one (`{{> (lookup . "x")}}`). */
function staticName(call: hbs.AST.PartialStatement): string | undefined {
  // The grammar also takes a string literal (`{{> "name"}}`), which the typings leave out.
  const name = call.name as hbs.AST.Expression;
  // `{{> @partial-block}}` is the block a partial was called with, not a partial by name.
  if (name.type === "PathExpression" && !(name as hbs.AST.PathExpression).data)
    return (name as hbs.AST.PathExpression).original;
  if (name.type === "StringLiteral") return (name as hbs.AST.StringLiteral).value;
  return undefined;
}

/** Replaces the calls of `texts`' partials by their text (see inlineStaticPartials). */
class StaticPartials extends Handlebars.Visitor {
  readonly #texts: ReadonlyMap<string, string>;
  /** What was put in, with the text each must still hold after Handlebars' whitespace control. */
  readonly inserted: { node: hbs.AST.ContentStatement; text: string }[] = [];

  constructor(texts: ReadonlyMap<string, string>) {
    super();
    this.#texts = texts;
    // Handlebars' visitor replaces a node by what its method returns (missing from the typings).
    (this as { mutating?: boolean }).mutating = true;
  }

  override PartialStatement(partial: hbs.AST.PartialStatement): hbs.AST.Statement | undefined {
    const name = staticName(partial);
    const text = name === undefined ? undefined : this.#texts.get(name);
    // A call alone on its line gets its output indented: left as a call.
    if (text === undefined || (partial as { indent?: string }).indent) return undefined;
    // Whitespace control reads `original` to find standalone lines: the call's own text keeps it
    // reading the line as it did with the call (`original` is typed StripFlags, wrongly).
    const node = {
      type: "ContentStatement",
      value: text,
      original: `{{> ${name}}}`,
      loc: partial.loc,
    } as unknown as hbs.AST.ContentStatement;
    this.inserted.push({ node, text });
    return node;
  }
}

/**
 * The template with each call of an inline partial whose body is only text replaced by that text,
 * or `ast` itself when there is none to replace. Handlebars invokes a partial per call (an options
 * object, a frame, a function call): the shipped HAProxy template's `{{> server-options}}` runs once
 * per server line, about a third of a render of 100,000 servers, for a body that is empty unless the
 * operator writes options there. What renders stays the same: only partials defined once, at the top
 * level, are replaced (an inner definition shadows the outer one in its block), not calls alone on
 * their line (Handlebars indents those), and the rewrite is dropped when Handlebars' whitespace
 * control, which runs again when the tree is compiled, would trim an inserted text (a `~` beside the
 * call) where it left the partial's output alone.
 */
export function inlineStaticPartials(ast: hbs.AST.Program): hbs.AST.Program {
  const use = new PartialUse();
  use.accept(ast);
  const texts = new Map<string, string>();
  for (const node of ast.body) {
    if (node.type !== "DecoratorBlock") continue;
    const block = node as hbs.AST.DecoratorBlock;
    const name = inlineName(block);
    if (name === undefined || use.definitions.get(name) !== 1) continue;
    const body = block.program.body;
    if (!body.every((n) => n.type === "ContentStatement")) continue;
    // After the parse's whitespace control: the text the partial would output.
    texts.set(name, body.map((n) => (n as hbs.AST.ContentStatement).value).join(""));
  }
  if (texts.size === 0) return ast;
  const copy = structuredClone(ast);
  const rewrite = new StaticPartials(texts);
  rewrite.accept(copy);
  if (rewrite.inserted.length === 0) return ast;
  // parse() of a tree runs the whitespace control alone, as compile() will.
  Handlebars.parse(copy as unknown as string);
  return rewrite.inserted.every(({ node, text }) => node.value === text) ? copy : ast;
}

/** Where each partial is called, and which are defined anywhere in the template. */
export function partialUse(ast: hbs.AST.Program): {
  defined: Set<string>;
  calls: Map<string, hbs.AST.SourceLocation>;
} {
  const visitor = new PartialUse();
  visitor.accept(ast);
  const calls = new Map<string, hbs.AST.SourceLocation>();
  for (const call of visitor.calls) {
    const name = staticName(call);
    if (name !== undefined && !calls.has(name)) calls.set(name, call.loc);
  }
  return { defined: visitor.defined, calls };
}
