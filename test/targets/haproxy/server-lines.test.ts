import { describe, expect, it } from "vitest";
import { compileTemplate } from "../../../src/render/template.js";
import {
  notAddable,
  parseConfig,
  type ServerLine,
  sameOptions,
} from "../../../src/targets/haproxy/server-lines.js";
import { renderContext } from "../../helpers/render-context.js";

const head = ["global", "    stats socket /run/a.sock level admin", "defaults", "    mode http"];
const config = (...lines: string[]) => [...head, ...lines].join("\n");

describe("parseConfig", () => {
  it("keeps the server lines of backends and listen sections apart from every other line", () => {
    const parsed = parseConfig(
      config(
        "backend be_web",
        "    server s1 127.0.0.1:8001 weight 5 # comment",
        "listen li",
        "    server s2 [::1]:8002",
        "ring r",
        "    server log 127.0.0.1:514",
      ),
    );
    expect([...parsed.servers.values()]).toEqual([
      { backend: "be_web", name: "s1", address: "127.0.0.1:8001", options: ["weight", "5"], line: 6 },
      { backend: "li", name: "s2", address: "[::1]:8002", options: [], line: 8 },
    ]);
    expect(parsed.rest.map((r) => r.text)).toEqual([
      "global",
      "stats socket /run/a.sock level admin",
      "defaults",
      "mode http",
      "backend be_web",
      "listen li",
      "ring r",
      "server log 127.0.0.1:514",
    ]);
  });
});

describe("notAddable", () => {
  const lineOf = (text: string) => {
    const parsed = parseConfig(text);
    return notAddable([...parsed.servers.values()][0] as ServerLine, parsed.defaultServer);
  };

  it("accepts a plain server line with options add server takes", () => {
    expect(lineOf(config("backend be_web", "    server a 127.0.0.1:1 check inter 2s"))).toBeUndefined();
  });

  it("refuses an option that add server does not accept in 2.6", () => {
    expect(lineOf(config("backend be_web", "    server a 127.0.0.1:1 cookie abc"))).toBe(
      'line 6: server be_web/a: server option "cookie" is not accepted by "add server" in HAProxy 2.6',
    );
  });

  it("refuses a server under a default-server line, whose settings add server ignores", () => {
    expect(lineOf(config("backend be_web", "    default-server check", "    server a 127.0.0.1:1"))).toBe(
      'line 7: server be_web/a is under a default-server line, which "add server" does not apply',
    );
  });

  it("refuses a server line with characters that would chain Runtime API commands", () => {
    expect(lineOf(config("backend be_web", "    server a;shutdown 127.0.0.1:1"))).toBe(
      "line 6: server be_web/a;shutdown has characters lbwatch does not send to the Runtime API",
    );
  });

  it("lists every backend and listen section of the shipped template as a proxy lbwatch manages", async () => {
    const template = await compileTemplate(
      new URL("../../../templates/haproxy.cfg.hbs", import.meta.url).pathname,
    );
    const parsed = parseConfig(template.render(renderContext({ api: [["::1", 9000]], web: [] })));
    expect([[...parsed.proxies], [...parsed.servers.keys()]]).toEqual([
      ["be_api", "be_web"],
      ["be_api/b6__1_9000"],
    ]);
  });
});

describe("sameOptions", () => {
  it("compares options one by one, in order", () => {
    expect([
      sameOptions(["check", "inter", "2s"], ["check", "inter", "2s"]),
      sameOptions([], []),
      sameOptions(["check", "inter", "2s"], ["inter", "2s", "check"]),
      sameOptions(["check"], ["check", "disabled"]),
    ]).toEqual([true, true, false, false]);
  });
});
