import { describe, expect, it } from "vitest";
import { renderDiff } from "../../src/targets/dry-run.js";

describe("renderDiff", () => {
  it("prints a unified diff of dest to the new render headed with dest's path", () => {
    expect(renderDiff("/etc/haproxy/haproxy.cfg", "a\nb\nc\n", "a\nB\nc\n", false)).toBe(
      [
        "--- /etc/haproxy/haproxy.cfg\tcurrent",
        "+++ /etc/haproxy/haproxy.cfg\trendered",
        "@@ -1,3 +1,3 @@",
        " a",
        "-b",
        "+B",
        " c",
        "",
      ].join("\n"),
    );
  });

  it("shows every line as added when dest does not exist yet", () => {
    expect(renderDiff("/x.cfg", undefined, "one\ntwo\n", false)).toBe(
      "--- /x.cfg\tcurrent\n+++ /x.cfg\trendered\n@@ -0,0 +1,2 @@\n+one\n+two\n",
    );
  });

  it("colors removed lines red, added lines green and hunk headers cyan when asked", () => {
    expect(renderDiff("/x", "a\n", "b\n", true).split("\n")).toEqual([
      "\u001b[1m--- /x\tcurrent\u001b[22m",
      "\u001b[1m+++ /x\trendered\u001b[22m",
      "\u001b[36m@@ -1,1 +1,1 @@\u001b[39m",
      "\u001b[31m-a\u001b[39m",
      "\u001b[32m+b\u001b[39m",
      "",
    ]);
  });
});
