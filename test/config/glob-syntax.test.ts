import { describe, expect, it } from "vitest";
import { globSyntaxError } from "../../src/config/glob-syntax.js";

describe("globSyntaxError", () => {
  it.each([
    ["python3"],
    ["node*"],
    ["{nginx,haproxy}"],
    ["[!a]x"],
    ["[]]"],
    ["[[:alpha:]]*"],
    ["+(a|b)"],
    ["\\["],
    ["a\\)"],
    ["a|b"],
  ])("accepts %j", (glob) => {
    expect(globSyntaxError(glob)).toBeUndefined();
  });

  it.each([
    ["[", "the [ at character 1 is never closed (write \\[ to match a [)"],
    ["a[b", "the [ at character 2 is never closed (write \\[ to match a [)"],
    ["[]", "the [ at character 1 is never closed (write \\[ to match a [)"],
    ["[[:alpha:]", "the [ at character 1 is never closed (write \\[ to match a [)"],
    ["+(a|b", "the ( at character 2 is never closed (write \\( to match a ()"],
    ["{a,", "the { at character 1 is never closed (write \\{ to match a {)"],
    ["{a,(b}", "the } at character 6 closes nothing (write \\} to match a })"],
    ["a)", "the ) at character 2 closes nothing (write \\) to match a ))"],
    ["a\\", "it ends with a lone \\ (write \\\\ to match a \\)"],
    ["[z-a]", "it does not compile: range out of order in character class"],
  ])("refuses %j: %s", (glob, error) => {
    expect(globSyntaxError(glob)).toBe(error);
  });
});
