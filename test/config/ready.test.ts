import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { Problems } from "../../src/config/problems.js";
import { parseReady } from "../../src/config/ready.js";

/** `services.web.ready` as YAML, parsed: the gate, or the problem lines. */
function ready(yaml: string) {
  const problems = new Problems();
  const gate = parseReady(parseDocument(yaml).toJS(), "services.web.ready", problems);
  return problems.lines.length > 0 ? problems.lines : gate;
}

describe("services.NAME.ready", () => {
  it("takes an http check with the defaults for everything not given", () => {
    expect(ready("http: { path: /healthz }")).toEqual({
      check: { kind: "http", path: "/healthz", expect: [{ from: 200, to: 399 }] },
      timeoutMs: 1000,
      intervalMs: 1000,
      deadlineMs: 60_000,
    });
    expect(ready("http:")).toMatchObject({ check: { kind: "http", path: "/" } });
  });

  it("takes every key of an http check", () => {
    expect(
      ready(
        'http: { path: "/ready?full=1", expect: "200,204,300-302", host: web.example.com }\ntimeout: 250ms\ninterval: 50ms\ndeadline: 2m',
      ),
    ).toEqual({
      check: {
        kind: "http",
        path: "/ready?full=1",
        expect: [
          { from: 200, to: 200 },
          { from: 204, to: 204 },
          { from: 300, to: 302 },
        ],
        host: "web.example.com",
      },
      timeoutMs: 250,
      intervalMs: 50,
      deadlineMs: 120_000,
    });
  });

  it("takes an exec check as an argv list, with the stdout it must print", () => {
    expect(ready('exec: [redis-cli, -h, "{address}", -p, "{port}", ping]\nstdout: PONG')).toEqual({
      check: { kind: "exec", argv: ["redis-cli", "-h", "{address}", "-p", "{port}", "ping"], stdout: "PONG" },
      timeoutMs: 1000,
      intervalMs: 1000,
      deadlineMs: 60_000,
    });
  });

  it.each([
    [
      "{}",
      [
        'services.web.ready: needs a check: http: { path: /healthz } or exec: [redis-cli, -p, "{port}", ping]',
      ],
    ],
    ['http: {}\nexec: ["true"]', ["services.web.ready: has both http and exec: give exactly one"]],
    [
      'exec: "redis-cli ping"',
      [
        'services.web.ready.exec: must be an argv list such as [redis-cli, -p, "{port}", ping], not a string: lbwatch never runs a shell',
      ],
    ],
    [
      "exec: [redis-cli, 6379]",
      ['services.web.ready.exec[1]: 6379 is not a non-empty string: quote it ("6379")'],
    ],
    [
      "http: { path: healthz }",
      ['services.web.ready.http.path: "healthz" is not a request path such as /healthz'],
    ],
    [
      'http: { path: "/a b" }',
      ['services.web.ready.http.path: "/a b" is not a request path such as /healthz'],
    ],
    [
      'http: { expect: "200-99" }',
      [
        'services.web.ready.http.expect: "200-99" is not a status range such as "200-399", "200" or "200,204"',
      ],
    ],
    [
      'http: { expect: "2xx" }',
      ['services.web.ready.http.expect: "2xx" is not a status range such as "200-399", "200" or "200,204"'],
    ],
    [
      'http: { host: "a\\r\\nX-Evil: 1" }',
      ['services.web.ready.http.host: "a\\r\\nX-Evil: 1" is not a host name such as web.example.com'],
    ],
    ["http: { paht: /x }", ['services.web.ready.http.paht: unknown key; did you mean "path"?']],
    ["http: {}\nstdout: PONG", ["services.web.ready.stdout: applies to exec only"]],
    ['exec: ["true"]\nstdout: 1', ["services.web.ready.stdout: 1 is not a string such as PONG"]],
    [
      "http: {}\ntimeout: 0\ninterval: 5\ndeadline: 30d",
      [
        "services.web.ready.timeout: must be more than 0",
        "services.web.ready.interval: 5 is not a duration such as 20ms, 1s or 1m (add a unit: 5ms or 5s)",
        'services.web.ready.deadline: "30d" is not a duration such as 20ms, 1s or 1m',
      ],
    ],
    ["http: {}\ndeadlin: 1s", ['services.web.ready.deadlin: unknown key; did you mean "deadline"?']],
  ])("refuses %j, naming the key and the fix", (yaml, lines) => {
    expect(ready(yaml)).toEqual(lines);
  });
});
