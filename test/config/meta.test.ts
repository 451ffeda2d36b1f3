import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { META_LIMITS, parseMeta } from "../../src/config/meta.js";
import { Problems } from "../../src/config/problems.js";

/** `services.web.meta` from a JS value: the meta, or the problem lines. */
function meta(raw: unknown) {
  const problems = new Problems();
  const parsed = parseMeta(raw, "services.web.meta", problems);
  return problems.lines.length > 0 ? problems.lines : parsed;
}

const yaml = (text: string) => parseDocument(text).toJS() as unknown;

describe("services.NAME.meta", () => {
  it("keeps strings, numbers, booleans, mappings and lists as written, frozen", () => {
    const parsed = meta(
      yaml(
        "mode: tcp\nbind: 127.0.0.1:6379\nweight: 2.5\ncheck: false\ntags: [a, 1, true]\nnested: { deep: { x: y } }\nconstructor: ok",
      ),
    );
    expect(parsed).toEqual({
      mode: "tcp",
      bind: "127.0.0.1:6379",
      weight: 2.5,
      check: false,
      tags: ["a", 1, true],
      nested: { deep: { x: "y" } },
      constructor: "ok",
    });
    expect([Object.isFrozen(parsed), Object.isFrozen((parsed as { tags: unknown }).tags)]).toEqual([
      true,
      true,
    ]);
  });

  it("expands aliases as data, and yaml refuses to expand too many", () => {
    expect(meta(yaml("a: &x { k: v }\nb: *x"))).toEqual({ a: { k: "v" }, b: { k: "v" } });
  });

  it.each([
    [
      "a list",
      ["a"],
      ['services.web.meta: must be a mapping of names to values, e.g. { mode: tcp, bind: "127.0.0.1:6379" }'],
    ],
    [
      "a null",
      { x: null },
      [
        "services.web.meta.x: has no value: give a string, number, boolean, mapping or list, or remove the key",
      ],
    ],
    [
      "a newline",
      { x: "a\nb" },
      ["services.web.meta.x: holds a control character (a newline, a tab...): meta strings are one line"],
    ],
    [
      "an escape in a list",
      { x: ["ok", "\u001b[31m"] },
      ["services.web.meta.x[1]: holds a control character (a newline, a tab...): meta strings are one line"],
    ],
    [
      "an infinite number",
      { x: Number.POSITIVE_INFINITY },
      ["services.web.meta.x: null is not a finite number"],
    ],
    [
      "a key a template cannot reach",
      { "a b": 1, "9x": 2 },
      [
        "services.web.meta.a b: is not a usable key: letters, digits, '_' and '-', starting with a letter or '_', at most 64",
        "services.web.meta.9x: is not a usable key: letters, digits, '_' and '-', starting with a letter or '_', at most 64",
      ],
    ],
    [
      "__proto__",
      JSON.parse('{"__proto__": {"x": 1}}'),
      [
        "services.web.meta.__proto__: is not a usable key: letters, digits, '_' and '-', starting with a letter or '_', at most 64",
      ],
    ],
    [
      "a date",
      { x: new Date(0) },
      ['services.web.meta.x: "1970-01-01T00:00:00.000Z" is not a string, number, boolean, mapping or list'],
    ],
    [
      "a long string",
      { x: "x".repeat(META_LIMITS.stringLength + 1) },
      [`services.web.meta.x: is longer than ${META_LIMITS.stringLength} characters`],
    ],
  ])("refuses %s, naming the key", (_name, raw, lines) => {
    expect(meta(raw)).toEqual(lines);
  });

  it("refuses nesting deeper than the limit and more values than the limit", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < META_LIMITS.depth; i++) deep = { k: deep };
    expect(meta(deep)).toMatchObject({ k: {} });
    expect(meta({ k: deep })).toEqual([
      `services.web.meta${".k".repeat(META_LIMITS.depth)}: is nested more than ${META_LIMITS.depth} levels deep`,
    ]);
    const wide = { list: Array.from({ length: META_LIMITS.values + 5 }, (_, i) => i) };
    expect(meta(wide)).toEqual([
      `services.web.meta.list[${META_LIMITS.values - 1}]: meta holds more than ${META_LIMITS.values} values: keep it small`,
    ]);
  });
});
