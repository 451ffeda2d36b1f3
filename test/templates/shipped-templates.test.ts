/**
 * The shipped templates rendered with every documented meta key (README "meta keys of the shipped
 * templates") and checked by the real `haproxy -c` and `nginx -t`; values they cannot print safely
 * fail the render, at the template's line, as `lbwatch check` shows it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Meta } from "../../src/config/types.js";
import { compileTemplate } from "../../src/render/template.js";
import { renderContext } from "../helpers/render-context.js";

const templates = new URL("../../templates/", import.meta.url).pathname;
let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-templates-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Services = Record<string, [string, number][]>;
interface State {
  services: Services;
  meta?: Record<string, Meta>;
  waiting?: Services;
}

async function render(template: string, state: State): Promise<string> {
  return (await compileTemplate(join(templates, template))).render(renderContext(state.services, state));
}

async function renderTo(template: string, state: State): Promise<string> {
  const file = join(dir, `${template}.${files++}`);
  await writeFile(file, await render(template, state));
  return file;
}

const two: [string, number][] = [
  ["127.0.0.1", 8001],
  ["::1", 8002],
];

/** Every documented key, alone and together, for both templates where the key exists. */
const common: [string, State][] = [
  ["one empty service", { services: { web: [] } }],
  ["an empty service beside one with IPv4 and IPv6 backends", { services: { api: [], web: two } }],
  ["mode: http", { services: { web: two }, meta: { web: { mode: "http" } } }],
  [
    "mode: tcp with bind, and an empty tcp service",
    {
      services: { redis: [["127.0.0.1", 6379]], cache: [], web: two },
      meta: { redis: { mode: "tcp", bind: "127.0.0.1:16379" }, cache: { mode: "tcp", bind: "[::1]:16380" } },
    },
  ],
  [
    "bind on an http service",
    { services: { web: two, api: two }, meta: { api: { bind: "127.0.0.1:18080" } } },
  ],
  ["balance: leastconn", { services: { web: two }, meta: { web: { balance: "leastconn" } } }],
  ["balance: random", { services: { web: two }, meta: { web: { balance: "random" } } }],
  ["timeout: 5s", { services: { web: two }, meta: { web: { timeout: "5s" } } }],
  ["check: false", { services: { web: two }, meta: { web: { check: false } } }],
  [
    "every key at once, on an http and a tcp service",
    {
      services: { web: two, redis: two },
      meta: {
        web: { mode: "http", bind: "127.0.0.1:18081", balance: "leastconn", timeout: "2s", check: false },
        redis: { mode: "tcp", bind: "127.0.0.1:16381", balance: "random", timeout: "1h" },
      },
    },
  ],
];

const haproxyOnly: [string, State][] = [
  ["balance: random(2)", { services: { web: two }, meta: { web: { balance: "random(2)" } } }],
  ["check: other timers", { services: { web: two }, meta: { web: { check: "inter 500ms fall 2 rise 1" } } }],
  [
    "checkOption on an http service",
    { services: { web: two }, meta: { web: { checkOption: "httpchk GET /healthz" } } },
  ],
  [
    "checkOption: redis-check on a tcp service",
    {
      services: { redis: two },
      meta: { redis: { mode: "tcp", bind: "127.0.0.1:16379", checkOption: "redis-check" } },
    },
  ],
  [
    "serverOptions as a string",
    { services: { web: two }, meta: { web: { serverOptions: "ssl verify none" } } },
  ],
  ["serverOptions as a list", { services: { web: two }, meta: { web: { serverOptions: ["maxconn", 100] } } }],
  [
    "every HAProxy key at once",
    {
      services: { redis: two },
      meta: {
        redis: {
          mode: "tcp",
          bind: "127.0.0.1:16379",
          balance: "leastconn",
          timeout: "1h",
          check: "inter 1s fall 2 rise 1",
          checkOption: "redis-check",
          serverOptions: "maxconn 100 weight 10",
        },
      },
    },
  ],
];

describe("templates/haproxy.cfg.hbs", () => {
  it.each([...common, ...haproxyOnly])(
    "renders a config haproxy -c accepts with %s",
    async (_name, state) => {
      const file = await renderTo("haproxy.cfg.hbs", state);
      const result = await execa("haproxy", ["-c", "-f", file], { reject: false });
      expect({ exitCode: result.exitCode, out: result.stdout.trim(), err: result.stderr }).toEqual({
        exitCode: 0,
        out: "Configuration file is valid",
        err: "",
      });
    },
  );

  it("names each server by its backend id, with the slow health check and no default-server", async () => {
    const text = await render("haproxy.cfg.hbs", { services: { web: two } });
    expect(text.split("\n").filter((l) => /^\s*(server|default-server|option|http-check) /.test(l))).toEqual([
      "    option httplog",
      "    option dontlognull",
      "    option redispatch 1",
      "    option forwardfor",
      "    option httpchk",
      "    http-check expect rstatus ^[1-5]",
      "    server b127_0_0_1_8001 127.0.0.1:8001 id 1 check inter 2s fastinter 500ms fall 3 rise 2",
      "    server b6__1_8002 [::1]:8002 id 2 check inter 2s fastinter 500ms fall 3 rise 2",
    ]);
  });

  it("leaves out backends waiting to be ready, counting them in the service's comment", async () => {
    const text = await render("haproxy.cfg.hbs", {
      services: { web: [["127.0.0.1", 8001]] },
      waiting: { web: [["127.0.0.1", 8002]] },
    });
    expect(text.split("\n").filter((l) => /8002|^# service/.test(l))).toEqual([
      "# service web: 1 backend(s), 1 waiting to be ready; without any, HAProxy answers 503 (http) or closes connections (tcp)",
    ]);
  });

  it("gives a tcp service a frontend of its own on bind, outside the HTTP frontend's routing", async () => {
    const text = await render("haproxy.cfg.hbs", {
      services: { redis: [["127.0.0.1", 6379]], web: [] },
      meta: { redis: { mode: "tcp", bind: "127.0.0.1:16379", checkOption: "redis-check", check: false } },
    });
    const section = (name: string) =>
      text
        .split("\n\n")
        .find((s) => s.split("\n").includes(name))
        ?.trim();
    expect([section("frontend fe_redis"), section("backend be_redis")]).toEqual([
      "frontend fe_redis\n    mode tcp\n    bind '127.0.0.1:16379'\n    option tcplog\n    default_backend be_redis",
      "# service redis: 1 backend(s); without any, HAProxy answers 503 (http) or closes connections (tcp)\nbackend be_redis\n    mode tcp\n    server b127_0_0_1_6379 127.0.0.1:6379 id 1",
    ]);
    expect(text).not.toMatch(/be_redis if/);
    expect(text).toMatch(/default_backend be_web\n/);
  });

  it.each([
    [{ mode: "tpc" }, '"tpc" is not one of http, tcp'],
    [{ mode: "tcp" }, "meta.bind (where the frontend of a tcp service listens"],
    [{ serverOptions: "ssl # comment" }, 'bareWords: "#" holds characters that are syntax in a config file'],
    [{ balance: "roundrobin\nfoo" }, "bareWords: "],
    [{ check: true }, "bareWords: true is not a string or number"],
  ])("refuses meta %j at its line in the template", async (meta, message) => {
    const err = await render("haproxy.cfg.hbs", { services: { web: two }, meta: { web: meta } }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/haproxy\.cfg\.hbs:\d+:\d+: /);
    expect(err?.message).toContain(message);
  });
});

const nginxOnly: [string, State][] = [
  [
    "check: false on a tcp service",
    { services: { redis: two }, meta: { redis: { mode: "tcp", bind: "127.0.0.1:16379", check: false } } },
  ],
];

describe("templates/nginx.conf.hbs", () => {
  it.each([...common, ...nginxOnly])("renders a config nginx -t accepts with %s", async (_name, state) => {
    const file = await renderTo("nginx.conf.hbs", state);
    const result = await execa("nginx", ["-t", "-c", file, "-g", `pid ${join(dir, "nginx.pid")};`], {
      reject: false,
    });
    expect({ exitCode: result.exitCode, out: result.stderr.trim() }).toEqual({
      exitCode: 0,
      out: `nginx: the configuration file ${file} syntax is ok\nnginx: configuration file ${file} test is successful`,
    });
  });

  it("marks each server for passive checks, shared by the workers, and leaves out waiting backends", async () => {
    const text = await render("nginx.conf.hbs", {
      services: { web: two },
      waiting: { web: [["127.0.0.1", 8003]] },
    });
    const upstream = text.slice(
      text.indexOf("    upstream"),
      text.indexOf("    }", text.indexOf("upstream")) + 5,
    );
    expect(upstream).toBe(
      [
        "    upstream svc_web {",
        "        zone svc_web 64k;",
        "        server 127.0.0.1:8001 max_fails=1 fail_timeout=10s; # b127_0_0_1_8001",
        "        server [::1]:8002 max_fails=1 fail_timeout=10s; # b6__1_8002",
        "        keepalive 32;",
        "    }",
      ].join("\n"),
    );
    expect(text).toContain("# service web: 2 backend(s), 1 waiting to be ready\n");
    expect(text).toContain("    proxy_next_upstream error timeout;\n");
  });

  it("loads the stream module and opens a stream server only when a service is tcp", async () => {
    const http = await render("nginx.conf.hbs", { services: { web: two } });
    const tcp = await render("nginx.conf.hbs", {
      services: { web: two, redis: [["127.0.0.1", 6379]] },
      meta: { redis: { mode: "tcp", bind: "127.0.0.1:16379", balance: "leastconn" } },
    });
    expect([http.includes("stream {"), http.includes("modules-enabled")]).toEqual([false, false]);
    expect(tcp).toContain("include /etc/nginx/modules-enabled/*.conf;\n");
    expect(tcp.slice(tcp.indexOf("stream {"))).toContain(
      [
        "    upstream svc_redis {",
        "        zone svc_redis 64k;",
        "        least_conn;",
        "        server 127.0.0.1:6379 max_fails=1 fail_timeout=10s; # b127_0_0_1_6379",
        "    }",
        "",
        "    server {",
        '        listen "127.0.0.1:16379";',
        "        proxy_pass svc_redis;",
        "    }",
      ].join("\n"),
    );
  });

  it.each([
    [{ balance: "first" }, '"first" is not one of roundrobin, leastconn, random'],
    [{ mode: "tcp" }, "meta.bind (where a tcp service listens"],
    [{ timeout: "5s; return 200" }, "bareWords: "],
  ])("refuses meta %j at its line in the template", async (meta, message) => {
    const err = await render("nginx.conf.hbs", { services: { web: two }, meta: { web: meta } }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/nginx\.conf\.hbs:\d+:\d+: /);
    expect(err?.message).toContain(message);
  });
});
