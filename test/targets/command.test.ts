import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { CommandError, runCommand, substituteStaged } from "../../src/targets/command.js";

const node = process.execPath;

describe("substituteStaged", () => {
  it("replaces {staged} as a whole argument and inside an argument, leaving the rest alone", () => {
    expect(
      substituteStaged(["nginx", "-t", "-c", "{staged}", "--x={staged}.bak", "{other}"], "/etc/.a b"),
    ).toEqual(["nginx", "-t", "-c", "/etc/.a b", "--x=/etc/.a b.bak", "{other}"]);
  });
});

describe("runCommand", () => {
  it("resolves with stdout when the command exits 0", async () => {
    await expect(
      runCommand("check", [node, "-e", "console.log('ok ' + process.argv[1])", "a;b"], { timeoutMs: 5000 }),
    ).resolves.toBe("ok a;b");
  });

  it("passes arguments without a shell: metacharacters reach the command verbatim", async () => {
    const arg = "$(touch /tmp/never) `x` | ; &&";
    await expect(
      runCommand("check", [node, "-e", "console.log(process.argv[1])", arg], { timeoutMs: 5000 }),
    ).resolves.toBe(arg);
  });

  it("rejects with E_CHECK_FAILED, the exit code and stderr when a check exits non-zero", async () => {
    const argv = [node, "-e", "console.error('line 3: bad'); process.exit(3)"];
    const err = await runCommand("check", argv, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect({ ...(err as CommandError), message: (err as CommandError).message }).toEqual({
      name: "LbwatchError",
      code: "E_CHECK_FAILED",
      argv,
      exitCode: 3,
      stderr: "line 3: bad",
      timedOut: false,
      message: `check command ${JSON.stringify(argv)} exited with 3: line 3: bad`,
    });
  });

  it("shows stdout when a failing command printed its diagnostics there", async () => {
    const argv = [node, "-e", "console.log('[ALERT] parsing'); process.exit(1)"];
    const err = (await runCommand("reload", argv, { timeoutMs: 5000 }).catch(
      (e: unknown) => e,
    )) as CommandError;
    expect([err.code, err.exitCode, err.stderr]).toEqual(["E_RELOAD_FAILED", 1, "[ALERT] parsing"]);
  });

  it("kills a command that outlives its timeout and reports it as timed out", async () => {
    const started = Date.now();
    const err = (await runCommand("reload", [node, "-e", "setTimeout(() => {}, 60000)"], {
      timeoutMs: 200,
    }).catch((e: unknown) => e)) as CommandError;
    expect([err.code, err.timedOut, err.exitCode]).toEqual(["E_RELOAD_FAILED", true, undefined]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("reports a command that cannot be found with no exit code and the spawn error", async () => {
    const err = (await runCommand("check", ["/nonexistent/lbwatch-check"], { timeoutMs: 5000 }).catch(
      (e: unknown) => e,
    )) as CommandError;
    expect([err.code, err.exitCode, err.timedOut, err.stderr]).toEqual([
      "E_CHECK_FAILED",
      undefined,
      false,
      "ENOENT",
    ]);
  });

  it("runs a background command at a lower CPU priority than lbwatch", async () => {
    const niceness = [node, "-e", "process.stdout.write(String(require('os').getPriority()))"];
    const own = String(getPriority());
    expect([
      await runCommand("check", niceness, { timeoutMs: 5000 }),
      await runCommand("check", niceness, { timeoutMs: 5000, background: true }),
    ]).toEqual([own, String(Math.min(Number(own) + 10, 19))]);
  });
});
