import { beforeAll, describe, expect, it } from "vitest";
import { describeError } from "../../src/cli/main.js";
import { LbwatchError } from "../../src/errors.js";
import { ensureBuilt, runCli } from "../helpers/cli.js";

beforeAll(ensureBuilt, 120_000);

describe("bin/lbwatch usage errors", () => {
  it.each([
    [["ls", "--jsn"], "lbwatch: unknown option '--jsn' (Did you mean --json?); see 'lbwatch --help'"],
    [
      ["events", "--port", "90x"],
      `lbwatch: option '--port <list>' argument '90x' is invalid. "90x" is not a port or range (1-65535, e.g. 9000 or 8000-8099); see 'lbwatch --help'`,
    ],
    [["lsx"], "lbwatch: unknown command 'lsx' (Did you mean ls?); see 'lbwatch --help'"],
    [[], "lbwatch: missing command; see 'lbwatch --help'"],
    [
      ["ls", "--netns", "blue"],
      `lbwatch: E_USAGE: option '--netns <ns>': "blue" is not any, host, a path such as /run/netns/blue, or a namespace inode number`,
    ],
  ])("lbwatch %j prints one line on stderr and exits 2", async (args, line) => {
    const r = await runCli(args);
    expect({ exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout }).toEqual({
      exitCode: 2,
      stderr: line,
      stdout: "",
    });
  });

  it("prints help on stdout and exits 0", async () => {
    const r = await runCli(["events", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: lbwatch events \[options\]\n/);
    expect(r.stdout).toContain("--port <list>");
    expect(r.stderr).toBe("");
  });
});

describe("describeError", () => {
  it("reports an LbwatchError as one line with its code and exit status 1", () => {
    expect(describeError(new LbwatchError("E_BPF_PERM", "loading BPF needs root"))).toEqual({
      line: "lbwatch: E_BPF_PERM: loading BPF needs root",
      code: 1,
    });
  });

  it("joins a multi-line probe error into one line", () => {
    const err = new LbwatchError(
      "E_BPF_LOAD",
      "no hook could be attached. Tried:\n  tp_btf: no BTF\n  kprobe: ENOENT",
    );
    expect(describeError(err)).toEqual({
      line: "lbwatch: E_BPF_LOAD: no hook could be attached. Tried: tp_btf: no BTF; kprobe: ENOENT",
      code: 1,
    });
  });

  it("reports an unexpected error as one line and exit status 1", () => {
    expect(describeError(new TypeError("x is undefined"))).toEqual({
      line: "lbwatch: unexpected error: x is undefined",
      code: 1,
    });
  });
});
