import { describe, expect, it } from "vitest";
import { statusRequest } from "../../src/cli/status.js";
import { statusSummary } from "../../src/cli/status-format.js";
import type { ControllerSnapshot } from "../../src/controller/controller.js";
import { LbwatchError } from "../../src/errors.js";

const usage = (url: string) => {
  try {
    statusRequest(url);
  } catch (err) {
    expect(err).toBeInstanceOf(LbwatchError);
    expect((err as LbwatchError).code).toBe("E_USAGE");
    return (err as LbwatchError).message;
  }
  throw new Error(`${url} was accepted`);
};

describe("statusRequest", () => {
  it("reads http URLs (with a path prefix), unix: URLs and http.listen addresses", () => {
    expect(
      [
        "http://127.0.0.1:9369",
        "http://[::1]:9369/",
        "http://lb.example:8080/lbwatch/",
        "unix:/run/lbwatch.sock",
        "127.0.0.1:9369",
        "[::1]:9369",
        "/run/lbwatch.sock",
      ].map(statusRequest),
    ).toEqual([
      { url: "http://127.0.0.1:9369", host: "127.0.0.1", port: 9369, path: "/status" },
      { url: "http://[::1]:9369/", host: "::1", port: 9369, path: "/status" },
      { url: "http://lb.example:8080/lbwatch/", host: "lb.example", port: 8080, path: "/lbwatch/status" },
      { url: "unix:/run/lbwatch.sock", socketPath: "/run/lbwatch.sock", path: "/status" },
      { url: "http://127.0.0.1:9369", host: "127.0.0.1", port: 9369, path: "/status" },
      { url: "http://[::1]:9369", host: "::1", port: 9369, path: "/status" },
      { url: "unix:/run/lbwatch.sock", socketPath: "/run/lbwatch.sock", path: "/status" },
    ]);
  });

  it("refuses other schemes, relative socket paths, credentials and what is no address, as usage errors", () => {
    const hint = "; e.g. http://127.0.0.1:9369 or unix:/run/lbwatch.sock";
    expect(
      ["https://127.0.0.1:9369", "unix:run/x.sock", "http://u:p@127.0.0.1:1", "nonsense", "http://[::1"].map(
        usage,
      ),
    ).toEqual([
      `option '--url <url>': "https://127.0.0.1:9369" is not http: (lbwatch serves plain HTTP)${hint}`,
      `option '--url <url>': "unix:run/x.sock" must name an absolute socket path after unix:${hint}`,
      `option '--url <url>': "http://u:p@127.0.0.1:1" must not have credentials, a query or a fragment${hint}`,
      `option '--url <url>': "nonsense" is not a URL or an http.listen address${hint}`,
      `option '--url <url>': "http://[::1" is not a URL${hint}`,
    ]);
  });
});

describe("statusSummary", () => {
  const now = new Date(2026, 11, 1, 12, 0, 0).getTime();
  const min = 60_000;
  const snapshot: ControllerSnapshot = {
    services: {
      api: [],
      web: ["127.0.0.10:80", "127.0.0.2:80", "[::1]:80"].map((endpoint, i) => ({
        id: `b${i}`,
        endpoint,
        source: "local",
        host: "h",
        pid: 10 + i,
        comm: "srv",
        uid: 0,
        since: now - min,
        ready: true,
      })),
    },
    sources: [{ id: "local", kind: "local", state: "ok", lastContact: now - 2000 }],
    targets: [
      {
        target: "/etc/haproxy/haproxy.cfg",
        kind: "file",
        state: "ok",
        since: now - 5 * min,
        failures: 0,
        pending: false,
        quarantined: [],
        lastApplied: { at: now - 3000, activation: "runtime-api", latencyMs: 6.2 },
      },
      {
        target: "/etc/nginx/nginx.conf",
        kind: "file",
        state: "retrying",
        since: now - 90_000,
        failures: 3,
        pending: true,
        lastError: {
          code: "E_CHECK_FAILED",
          message: "nginx: [emerg] bad \u001b[31mvalue\nsecond line",
          at: now - 10_000,
        },
        quarantined: [
          {
            service: "web",
            id: "b9",
            pid: 99,
            uid: 1000,
            comm: "x\u001b]0;",
            host: "h",
            reason: "check failed",
            since: now - 60_000,
          },
        ],
      },
    ],
    pending: true,
    lost: [{ at: now - 24 * 60 * min - 1000, source: "local", reason: "ring-full", count: 120 }],
    resyncs: [],
  };

  it("lists services with counts and endpoints in numeric order, targets with state and errors, sources and history, all printable", () => {
    expect(statusSummary(snapshot, now)).toBe(
      [
        "SERVICE  BACKENDS  ENDPOINTS",
        "api      0",
        "web      3         [::1]:80 127.0.0.2:80 127.0.0.10:80",
        "",
        "TARGET                    STATE                SINCE                 LAST APPLIED",
        "/etc/haproxy/haproxy.cfg  ok                   11:55:00 (5m ago)     11:59:57 (3s ago) runtime-api 6.2 ms",
        "/etc/nginx/nginx.conf     retrying (3 failed)  11:58:30 (1m30s ago)  -",
        "  last error 11:59:50 (10s ago): E_CHECK_FAILED: nginx: [emerg] bad ?[31mvalue?second line",
        "  quarantined web/b9 (pid 99, x?]0;, uid 1000) since 11:59:00 (1m ago): check failed",
        "",
        "SOURCE  STATE  LAST CONTACT       DETAIL",
        "local   ok     11:59:58 (2s ago)",
        "",
        "pending: yes",
        "lost events:",
        "  2026-11-30 11:59:59 (1d0h ago)  local  ring-full  120 events",
        "resyncs: none",
        "",
      ].join("\n"),
    );
  });

  it("shows at most 8 endpoints of a service, and how many more", () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      ...snapshot.services.web?.[0],
      endpoint: `10.0.0.${i}:80`,
    }));
    const text = statusSummary(
      { ...snapshot, services: { web: many as ControllerSnapshot["services"][string] } },
      now,
    );
    expect(text.split("\n")[1]).toBe(
      "web      10        10.0.0.0:80 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80 10.0.0.6:80 10.0.0.7:80 +2 more",
    );
  });
});
