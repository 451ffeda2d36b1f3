/**
 * lbwatch registers no file partials, so a template can only call the inline partials it defines
 * (`{{#*inline "name"}}`). Handlebars finds a missing one only when it renders the call, and then
 * without a location; the template's syntax tree knows both the definitions and the calls.
 */
import Handlebars from "handlebars";

class PartialUse extends Handlebars.Visitor {
  readonly defined = new Set<string>();
  readonly calls: hbs.AST.PartialStatement[] = [];

  override DecoratorBlock(block: hbs.AST.DecoratorBlock): void {
    const [name] = block.params;
    if (block.path.original === "inline" && name?.type === "StringLiteral")
      this.defined.add((name as hbs.AST.StringLiteral).value);
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
