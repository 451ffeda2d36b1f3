import { describe, expect, it } from "vitest";
import { runTool } from "../../src/probe/run-tool.js";

describe("runTool", () => {
  it("gives the whole output of a tool that exited 0, run in the C locale", async () => {
    expect(await runTool(["sh", "-c", 'printf "%s\\n\\n" "$LC_ALL"'])).toEqual({
      stdout: "C\n\n",
      stderr: "",
    });
  });

  it("says why a tool failed with its first stderr line, or its exit code when it printed none", async () => {
    expect(await runTool(["sh", "-c", "echo out; echo first >&2; echo second >&2; exit 3"])).toEqual({
      stdout: "out\n",
      stderr: "first\nsecond\n",
      failure: "first",
    });
    expect((await runTool(["sh", "-c", "exit 4"])).failure).toBe("sh exited 4");
  });

  it("says so for a tool that is not installed or runs past its time", async () => {
    expect((await runTool(["lbwatch-no-such-tool"])).failure).toMatch(/ENOENT/);
    expect((await runTool(["sleep", "5"], 100)).failure).toBe("sleep timed out after 100 ms");
  });
});
