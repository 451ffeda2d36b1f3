/**
 * inlineStaticPartials must not change what a template renders: every template below renders the
 * same through Handlebars with and without the rewrite (whitespace control, standalone calls,
 * shadowing definitions in blocks, bodies with mustaches), and the shipped HAProxy template loses
 * its per-line partial call.
 */
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import { inlineStaticPartials, partialUse } from "../../src/render/partials.js";

const OPTIONS = { noEscape: true, strict: true };
const context = { ok: true, name: "N" };

function render(source: string, rewrite: boolean): string {
  try {
    const ast = Handlebars.parse(source);
    return Handlebars.create().compile(rewrite ? inlineStaticPartials(ast) : ast, OPTIONS)(context);
  } catch (err) {
    return `error: ${(err as Error).message.split("\n")[0]}`;
  }
}

const body = fc.constantFrom("", " ssl", "\nline\n", "a\nb", "{{name}}", "x{{~name}}", "  ");
const definition = fc
  .tuple(fc.constantFrom("p", "q"), body, fc.constantFrom("{{/inline}}", "{{/inline~}}", "{{/inline}}\n"))
  .map(([name, text, close]) => `{{#*inline "${name}"}}${text}${close}`);
const call = fc.constantFrom("{{> p}}", "{{~> p}}", "{{> p~}}", "{{> q}}", "\n{{> p}}\n", "  {{> q}}\n");
const text = fc.constantFrom("a", "\n", "  ", "x\ny", "[{{name}}]");
const leaf = fc.oneof(call, text, definition);
const open = fc.constantFrom("{{#if ok}}", "{{#if ok~}}", "{{~#if ok}}", "{{#if ok}}\n");
const close = fc.constantFrom("{{/if}}", "{{~/if}}", "{{/if~}}", "\n{{/if}}\n");
const fragment = fc.oneof(
  leaf,
  fc
    .tuple(open, fc.array(leaf, { maxLength: 4 }), fc.constantFrom("", "{{else}}", "{{~else~}}"), close)
    .map(([o, inner, otherwise, c]) => `${o}${inner.join("")}${otherwise}${inner.reverse().join("")}${c}`),
);

describe("inlineStaticPartials", () => {
  it("leaves every template rendering as Handlebars renders it", () => {
    fc.assert(
      fc.property(
        fc.array(definition, { maxLength: 3 }),
        fc.array(fragment, { maxLength: 8 }),
        (defs, rest) => {
          const source = [...defs, ...rest].join("");
          expect(render(source, true)).toBe(render(source, false));
        },
      ),
      { numRuns: Number(process.env.LBWATCH_PROPERTY_RUNS ?? 3000) },
    );
  });

  it("inlines the shipped HAProxy template's server-options, not its servers partial", async () => {
    const source = await readFile(new URL("../../templates/haproxy.cfg.hbs", import.meta.url), "utf8");
    const ast = Handlebars.parse(source);
    expect([...partialUse(ast).calls.keys()].sort()).toEqual(["server-options", "servers"]);
    expect([...partialUse(inlineStaticPartials(ast)).calls.keys()]).toEqual(["servers"]);
  });
});
