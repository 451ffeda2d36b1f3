import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLbwatchError } from "../../../src/errors.js";
import {
  assertSafeLine,
  classify,
  command,
  enableCommands,
  type ServerSpec,
} from "../../../src/targets/haproxy/runtime-commands.js";
import { thrownMessage } from "../../helpers/errors.js";

const web: ServerSpec = { backend: "be_web", name: "web-1", address: "127.0.0.1:8001", options: [] };

const refusal = (run: () => unknown) => thrownMessage("E_HAPROXY_API", run);

describe("command builders", () => {
  it("build one line per command from names, addresses and options", () => {
    const checked = { ...web, address: "[::1]:8002", options: ["check", "inter", "100ms", "weight", "5"] };
    expect([
      command.addServer(checked),
      command.enableServer(web),
      command.enableHealth(web),
      command.enableAgent(web),
      command.setState(web, "drain"),
      command.delServer(web),
      command.showServersState("be_web"),
      command.showServersState(),
      command.showInfo(),
    ]).toEqual([
      "add server be_web/web-1 [::1]:8002 check inter 100ms weight 5",
      "enable server be_web/web-1",
      "enable health be_web/web-1",
      "enable agent be_web/web-1",
      "set server be_web/web-1 state drain",
      "del server be_web/web-1",
      "show servers state be_web",
      "show servers state",
      "show info",
    ]);
  });

  it("refuse a value that would end the command or start another, naming the value and the rule", () => {
    expect(refusal(() => command.enableServer({ backend: "be_web", name: "s1;shutdown sessions" }))).toBe(
      'refused to send "s1;shutdown sessions" to HAProxy: a server name has characters outside ^[A-Za-z0-9_.:-]+$',
    );
    expect(refusal(() => command.addServer({ ...web, address: "127.0.0.1:1\nshow info" }))).toBe(
      'refused to send "127.0.0.1:1\\nshow info" to HAProxy: an address has characters outside ^[A-Za-z0-9_.:@[\\]-]+$',
    );
    expect(refusal(() => command.addServer({ ...web, options: ["weight", "1 <<"] }))).toBe(
      'refused to send "1 <<" to HAProxy: a server option has characters outside ^[A-Za-z0-9_.:@/,=+%!*()[\\]~^-]+$',
    );
  });

  it("refuse server options that add server does not take as they are written", () => {
    expect(refusal(() => command.addServer({ ...web, options: ["cookie", "a"] }))).toBe(
      'refused to send "cookie a" to HAProxy: server option "cookie" is not accepted by "add server" in HAProxy 2.6',
    );
    expect(refusal(() => command.addServer({ ...web, options: ["enabled"] }))).toBe(
      'refused to send "enabled" to HAProxy: server option "enabled" makes HAProxy 2.6 show an added server ready but send it no traffic',
    );
  });

  it("never produce more than the one command they build, whatever the strings", () => {
    const hostile = fc.oneof(
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.string({
        unit: fc.constantFrom("a", "1", ":", ".", "-", ";", "\n", "\r", "\\", "<", " ", "\t", "\u0085"),
        maxLength: 12,
      }),
      fc.constantFrom("s1", "127.0.0.1:80", "check", "<<", "s;s", "a\u2028b", "x\0"),
    );
    fc.assert(
      fc.property(
        hostile,
        hostile,
        hostile,
        fc.array(hostile, { maxLength: 4 }),
        (backend, name, address, options) => {
          const spec = { backend, name, address, options };
          for (const build of [
            () => command.addServer(spec),
            () => command.setState(spec, "maint"),
            () => command.delServer(spec),
          ]) {
            let line: string;
            try {
              line = build();
            } catch (err) {
              expect(isLbwatchError(err, "E_HAPROXY_API")).toBe(true);
              continue;
            }
            expect(line).toMatch(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/);
            expect(line).not.toMatch(/[;\\]|<</);
            expect(line.split(" ")).toContain(`${backend}/${name}`);
            assertSafeLine(line);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("assertSafeLine", () => {
  it("refuses lines that would chain, escape, open a payload or change the session", () => {
    const refusals = [
      "show info;show stat",
      "show info\n",
      "show\tinfo\u0007",
      "set map x \\;",
      "add map #0 <<",
      "prompt",
      "  quit",
      "",
    ].map((line) => refusal(() => assertSafeLine(line)));
    const special =
      'it contains a control character, ";", "\\" or "<<", which would change what HAProxy reads';
    expect(refusals).toEqual([
      `refused to send "show info;show stat" to HAProxy: ${special}`,
      `refused to send "show info\\n" to HAProxy: ${special}`,
      `refused to send "show\\tinfo\\u0007" to HAProxy: ${special}`,
      `refused to send "set map x \\\\;" to HAProxy: ${special}`,
      `refused to send "add map #0 <<" to HAProxy: ${special}`,
      'refused to send "prompt" to HAProxy: "prompt" would change the CLI session lbwatch shares',
      'refused to send "  quit" to HAProxy: "quit" would change the CLI session lbwatch shares',
      'refused to send "" to HAProxy: it is empty',
    ]);
  });

  it("refuses a line longer than HAProxy reads as one command, showing only its start", () => {
    expect(refusal(() => assertSafeLine(`show servers state ${"b".repeat(5000)}`))).toBe(
      `refused to send "show servers state ${"b".repeat(181)}"… to HAProxy: longer than 4096 characters`,
    );
  });
});

describe("enableCommands", () => {
  it("enables checks the line asks for and traffic unless it says disabled", () => {
    expect([
      enableCommands(web),
      enableCommands({ ...web, options: ["check", "agent-check", "agent-port", "9"] }),
      enableCommands({ ...web, options: ["disabled"] }),
    ]).toEqual([
      ["enable server be_web/web-1"],
      ["enable health be_web/web-1", "enable agent be_web/web-1", "enable server be_web/web-1"],
      [],
    ]);
  });

  it("names the server by an id when given one, and refuses an id that is not a positive integer", () => {
    const byId = { backend: "be_web", id: 1_000_001 };
    expect(enableCommands({ ...web, options: ["check"] }, byId)).toEqual([
      "enable health be_web/#1000001",
      "enable server be_web/#1000001",
    ]);
    expect(refusal(() => enableCommands(web, { backend: "be_web", id: -1 }))).toBe(
      'refused to send "-1" to HAProxy: a server id has characters outside ^[1-9][0-9]*$',
    );
  });
});

describe("classify", () => {
  it("tells success, the failures callers act on, and any other refusal apart", () => {
    expect([
      classify("registered", "New server registered."),
      classify("registered", "Already exists a server with the same name in backend."),
      classify("silent", ""),
      classify("silent", "No such server."),
      classify("silent", "No such backend."),
      classify("deleted", "Server deleted."),
      classify("deleted", "Server still has connections attached to it, cannot remove it."),
      classify("deleted", "Only servers in maintenance mode can be deleted."),
      classify("deleted", ""),
    ]).toEqual([
      { status: "ok" },
      { status: "exists", message: "Already exists a server with the same name in backend." },
      { status: "ok" },
      { status: "no-such-server", message: "No such server." },
      { status: "no-such-backend", message: "No such backend." },
      { status: "ok" },
      {
        status: "has-connections",
        message: "Server still has connections attached to it, cannot remove it.",
      },
      { status: "refused", message: "Only servers in maintenance mode can be deleted." },
      { status: "refused", message: "(no answer)" },
    ]);
  });
});
