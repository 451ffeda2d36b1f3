import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import { LbwatchError } from "../../src/errors.js";
import { buildContext } from "../../src/render/context.js";
import { compileTemplate, compileTemplateText } from "../../src/render/template.js";
import { backendAt } from "../registry/fakes.js";

const fixtures = resolve(import.meta.dirname, "../fixtures/templates");
const rules: ServiceRule[] = ["web", "api"].map((name) => ({
  name,
  ports: [{ from: 1, to: 2 }],
  netns: { kind: "any" },
}));
const backends = [
  backendAt("web", 4, "127.0.0.1", 8001),
  backendAt("web", 6, "::1", 8000),
  backendAt("web", 4, "127.0.0.1", 8000),
];

function asTemplateError(err: unknown): LbwatchError {
  expect(err).toBeInstanceOf(LbwatchError);
  expect((err as LbwatchError).code).toBe("E_TEMPLATE");
  return err as LbwatchError;
}

function templateError(fn: () => unknown): LbwatchError {
  try {
    fn();
  } catch (err) {
    return asTemplateError(err);
  }
  throw new Error("expected an E_TEMPLATE error");
}

describe("compileTemplate", () => {
  it("renders the context without HTML escaping", async () => {
    const template = await compileTemplate(resolve(fixtures, "backends.hbs"));
    expect(template.render(buildContext(rules, backends))).toBe(
      [
        "# service api: 0 backend(s)",
        "# service web: 3 backend(s)",
        "server id-127.0.0.1:8000 127.0.0.1:8000 # pid 10 srv uid 0 netns 1 backlog 4096 family 4",
        "server id-127.0.0.1:8001 127.0.0.1:8001 # pid 10 srv uid 0 netns 1 backlog 4096 family 4",
        "server id-[::1]:8000 [::1]:8000 # pid 10 srv uid 0 netns 1 backlog 4096 family 6",
        "",
      ].join("\n"),
    );
  });

  it("renders byte-identical output for the same state, whatever the order it was built in", async () => {
    const template = await compileTemplate(resolve(fixtures, "backends.hbs"));
    const first = template.render(buildContext(rules, backends));
    const again = template.render(buildContext(rules, backends));
    const shuffled = template.render(buildContext([...rules].reverse(), [...backends].reverse()));
    expect([again, shuffled]).toEqual([first, first]);
  });

  it("reports a syntax error as file:line:column with the source line", async () => {
    const file = resolve(fixtures, "broken.hbs");
    const source = await readFile(file, "utf8");
    const err = asTemplateError(await compileTemplate(file).catch((e: unknown) => e));
    expect(err.message).toBe(
      `${file}:4:27: parse error: Expecting 'CLOSE_RAW_BLOCK', 'CLOSE', 'CLOSE_UNESCAPED', 'OPEN_SEXPR', ` +
        `'CLOSE_SEXPR', 'ID', 'OPEN_BLOCK_PARAMS', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', 'SEP', got 'INVALID'\n` +
        `${source.split("\n")[3]}\n${" ".repeat(26)}^`,
    );
  });

  it("reports mismatched blocks at the opening block", () => {
    const err = templateError(() => compileTemplateText("a\n{{#each services}}\n{{/if}}\n", "/t.hbs"));
    expect(err.message).toBe("/t.hbs:2:4: each doesn't match if\n{{#each services}}\n   ^");
  });

  it("refuses an unknown helper when compiling", () => {
    const err = templateError(() => compileTemplateText("{{shell 'rm -rf /'}}", "/t.hbs"));
    expect(err.message).toBe(
      "/t.hbs:1:1: You specified knownHelpersOnly, but used the unknown helper shell\n{{shell 'rm -rf /'}}\n^",
    );
  });

  it("refuses a reference to a missing field instead of rendering it empty", () => {
    const template = compileTemplateText("{{#each services}}\n  {{name}} {{weight}}\n{{/each}}", "/t.hbs");
    const err = templateError(() => template.render(buildContext(rules, [])));
    expect(err.message).toBe('/t.hbs:2:14: "weight" not defined\n  {{name}} {{weight}}\n             ^');
  });

  it("refuses #each over a misspelt path, also through a helper argument, while #if may test for presence", () => {
    const context = buildContext(rules, []);
    const render = (text: string) => () => compileTemplateText(text, "/t.hbs").render(context);
    expect([
      templateError(render("{{#each services.wbe}}x{{/each}}")).message,
      templateError(render("{{#each services.wbe.backends}}x{{/each}}")).message,
      render("{{#if services.db}}db{{else}}no db{{/if}}")(),
    ]).toEqual([
      "/t.hbs:1:1: #each of a missing field\n{{#each services.wbe}}x{{/each}}\n^",
      '/t.hbs:1:9: "wbe" not defined\n{{#each services.wbe.backends}}x{{/each}}\n        ^',
      "no db",
    ]);
  });

  it("locates a missing field in the middle of a path, in a mustache and in #if", () => {
    const context = buildContext(rules, []);
    const render = (text: string) => () => compileTemplateText(text, "/t.hbs").render(context);
    expect([
      templateError(render("x\n {{services.wbe.name}}")).message,
      templateError(render("{{#if services.db.backends}}x{{/if}}")).message,
    ]).toEqual([
      '/t.hbs:2:4: "wbe" not defined\n {{services.wbe.name}}\n   ^',
      '/t.hbs:1:7: "db" not defined\n{{#if services.db.backends}}x{{/if}}\n      ^',
    ]);
  });

  it("refuses a call of a partial the template does not define when compiling", () => {
    const err = templateError(() => compileTemplateText("a\n  {{> nosuch}}\n", "/t.hbs"));
    expect(err.message).toBe(
      '/t.hbs:2:3: no partial named "nosuch": a template can call only the inline partials it defines ' +
        '({{#*inline "nosuch"}}…{{/inline}})\n  {{> nosuch}}\n  ^',
    );
  });

  it("locates a partial called outside the block that defines it when rendering", () => {
    const text = '{{#each services}}{{#*inline "row"}}r{{/inline}}{{/each}}\n{{> row}}';
    const err = templateError(() => compileTemplateText(text, "/t.hbs").render(buildContext(rules, [])));
    expect(err.message).toBe("/t.hbs:2:1: The partial row could not be found\n{{> row}}\n^");
  });

  it("renders inline partials the template defines", () => {
    const text = '{{#*inline "row"}}[{{name}}]{{/inline}}{{#each services}}{{> row}}{{/each}}';
    expect(compileTemplateText(text, "/t.hbs").render(buildContext(rules, []))).toBe("[api][web]");
  });

  it("reports a template file that cannot be read", async () => {
    const file = resolve(fixtures, "absent.hbs");
    await expect(compileTemplate(file)).rejects.toThrow(
      new LbwatchError("E_TEMPLATE", `${file}: cannot read the template (ENOENT)`),
    );
  });
});
