import { describe, expect, it } from "vitest";
import { compileTemplate } from "../../../src/render/template.js";
import { diffServerLines, parseConfig } from "../../../src/targets/haproxy/server-lines.js";
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
      { proxy: "be_web", name: "s1", address: "127.0.0.1:8001", options: ["weight", "5"], line: 6 },
      { proxy: "li", name: "s2", address: "[::1]:8002", options: [], line: 8 },
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

describe("diffServerLines", () => {
  it("lists added and removed servers when only backend server lines differ", () => {
    const before = config("backend be_web", "    server a 127.0.0.1:1", "    server b 127.0.0.1:2");
    const after = config(
      "backend be_web",
      "    server b 127.0.0.1:2",
      "    server c 127.0.0.1:3 check inter 1s",
    );
    expect(diffServerLines(before, after)).toEqual({
      hitless: true,
      added: [
        { proxy: "be_web", name: "c", address: "127.0.0.1:3", options: ["check", "inter", "1s"], line: 7 },
      ],
      removed: [{ proxy: "be_web", name: "a", address: "127.0.0.1:1", options: [], line: 6 }],
    });
  });

  it("treats a change of comments or blank lines alone as nothing to apply", () => {
    const before = config("# 1 backend", "backend be_web", "    server a 127.0.0.1:1");
    const after = config("", "# 2 backends", "backend be_web", "    server a 127.0.0.1:1");
    expect(diffServerLines(before, after)).toEqual({ hitless: true, added: [], removed: [] });
  });

  it("needs a reload when a line outside the servers of a backend changed, and names it", () => {
    const before = config("backend be_web", "    balance roundrobin");
    const after = config("backend be_web", "    balance leastconn");
    expect(diffServerLines(before, after)).toEqual({
      hitless: false,
      reason: 'line 6 "balance leastconn" changed outside the servers of a backend',
    });
  });

  it("needs a reload when a server keeps its name but changes its options", () => {
    const before = config("backend be_web", "    server a 127.0.0.1:1");
    const after = config("backend be_web", "    server a 127.0.0.1:1 weight 2");
    expect(diffServerLines(before, after)).toEqual({
      hitless: false,
      reason: "line 6: server be_web/a changed its address or options",
    });
  });

  it("needs a reload for a new server with an option that add server does not accept in 2.6", () => {
    const before = config("backend be_web");
    const after = config("backend be_web", "    server a 127.0.0.1:1 cookie abc");
    expect(diffServerLines(before, after)).toEqual({
      hitless: false,
      reason:
        'line 6: server be_web/a: server option "cookie" is not accepted by "add server" in HAProxy 2.6',
    });
  });

  it("needs a reload for a new server under a default-server line, whose settings add server ignores", () => {
    const before = config("backend be_web", "    default-server check");
    const after = config("backend be_web", "    default-server check", "    server a 127.0.0.1:1");
    expect(diffServerLines(before, after)).toEqual({
      hitless: false,
      reason: 'line 7: server be_web/a is under a default-server line, which "add server" does not apply',
    });
  });

  it("needs a reload for a server line with characters that would chain Runtime API commands", () => {
    const before = config("backend be_web");
    const after = config("backend be_web", "    server a;shutdown 127.0.0.1:1");
    expect(diffServerLines(before, after)).toEqual({
      hitless: false,
      reason: "line 6: server be_web/a;shutdown has characters lbwatch does not send to the Runtime API",
    });
  });

  it("finds only server changes between two renders of the shipped template", async () => {
    const template = await compileTemplate(
      new URL("../../../templates/haproxy.cfg.hbs", import.meta.url).pathname,
    );
    const before = template.render(renderContext({ api: [], web: [["127.0.0.1", 8001]] }));
    const after = template.render(renderContext({ api: [["::1", 9000]], web: [] }));
    const diff = diffServerLines(before, after);
    expect(
      diff.hitless && { added: diff.added.map((s) => s.name), removed: diff.removed.map((s) => s.name) },
    ).toEqual({
      added: ["b6__1_9000"],
      removed: ["b127_0_0_1_8001"],
    });
  });
});
