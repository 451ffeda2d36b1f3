import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyQuote, nginxQuote } from "../../src/render/helpers.js";
import { compileTemplateText } from "../../src/render/template.js";
import { freePort, minimalConfig, startHaproxy } from "../helpers/haproxy.js";

const context = {
  services: {
    web: {
      name: "web",
      backends: [
        {
          id: "b1",
          slot: 1,
          address: "10.0.0.1",
          port: 80,
          endpoint: "10.0.0.1:80",
          family: 4 as const,
          host: "h1",
          pid: 1,
          comm: "a",
          uid: 0,
          netns: 1,
          backlog: 1,
          ready: true,
        },
        {
          id: "b2",
          slot: 2,
          address: "::1",
          port: 81,
          endpoint: "[::1]:81",
          family: 6 as const,
          host: "h1",
          pid: 2,
          comm: "",
          uid: 0,
          netns: 1,
          backlog: 1,
          ready: true,
        },
      ],
      meta: { mode: "tcp", serverOptions: ["ssl", "verify", "none"], weight: 10 },
      waiting: [],
    },
    "my.api-v2": { name: "my.api-v2", backends: [], meta: {}, waiting: [] },
  },
};

const render = (text: string) => compileTemplateText(text, "/t.hbs").render(context);

describe("template helpers", () => {
  it.each([
    ['{{#if (eq services.web.name "web")}}yes{{/if}}', "yes"],
    ['{{#if (ne services.web.name "web")}}yes{{else}}no{{/if}}', "no"],
    ["{{#if (not services.[my.api-v2].backends)}}empty{{/if}}", "empty"],
    ["{{#each services.web.backends}}{{#if (and (eq family 4) port)}}{{id}}{{/if}}{{/each}}", "b1"],
    [
      "{{#each services.web.backends}}{{#if (or (eq family 6) (eq port 80))}}{{id}} {{/if}}{{/each}}",
      "b1 b2 ",
    ],
    ['{{#each services.web.backends}}[{{default comm "unknown"}}]{{/each}}', "[a][unknown]"],
    ['{{join services.web.backends " " "endpoint"}}', "10.0.0.1:80 [::1]:81"],
    ['{{join (json services.web.name)}}|{{join services.web.backends ";" "port"}}', "|80;81"],
    ["{{#each services}}{{sanitize @key}} {{/each}}", "web my_api_v2 "],
    ['{{upper services.web.name}} {{lower "ABC"}}', "WEB abc"],
    ["{{len services}} {{len services.web.backends}} {{len services.web.name}}", "2 2 3"],
    ["{{json services.web.backends.1.endpoint}}", '"[::1]:81"'],
    [
      "[{{bareWords services.web.meta.serverOptions}}] [{{bareWords services.web.meta.absent}}]",
      "[ssl verify none] []",
    ],
    [
      '{{bareWords "maxconn 100  weight 2"}} {{bareWords services.web.meta.weight}}',
      "maxconn 100 weight 2 10",
    ],
    [
      '{{bareWords "sni str(a.example.com) alpn h2,http/1.1 ca-file /etc/ssl/x.pem id=[1]"}}',
      "sni str(a.example.com) alpn h2,http/1.1 ca-file /etc/ssl/x.pem id=[1]",
    ],
    ['{{oneOf services.web.meta.mode "http" "tcp"}}', "tcp"],
    [
      '[{{bareWords services.web.meta.serverOptions " "}}][{{bareWords services.web.meta.absent " check "}}][{{bareWords false}}]',
      "[ ssl verify none][][]",
    ],
    ['{{required services.web.name "a name"}}', "web"],
    ['{{#each (where services "meta.mode" "tcp")}}{{name}} {{/each}}', "web "],
    ['{{#each (where services "meta.mode" undefined)}}{{name}} {{/each}}', "my.api-v2 "],
    ['{{len (where services.web.backends "family" 6)}} {{len (where "text" "x" 1)}}', "1 0"],
  ])("%s → %j", (text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it.each([
    [
      '{{bareWords "ssl #x"}}',
      '/t.hbs:1:1: bareWords: "#x" holds characters that are syntax in a config file',
    ],
    ["{{bareWords services.web.meta}}", "/t.hbs:1:1: bareWords: "],
    ['{{bareWords "a\nb"}}', '/t.hbs:1:1: bareWords: "a\\nb" holds characters'],
    ['{{bareWords "it\'s"}}', "holds characters"],
    ['{{bareWords "a;b"}} {{bareWords "a{b"}}', "holds characters"],
    ['{{bareWords "$HOME"}}', "holds characters"],
    ['{{oneOf services.web.meta.mode "http"}}', '/t.hbs:1:1: oneOf: "tcp" is not one of http'],
    ['{{oneOf services.web.meta.absent "http" "tcp"}}', "/t.hbs:1:1: oneOf: nothing is not one of http, tcp"],
    ['x {{required services.web.meta.bind "meta.bind"}}', "/t.hbs:1:3: required: meta.bind is required"],
  ])("refuses %s at the call site", (text, message) => {
    expect(() => render(text)).toThrow(message);
  });

  it("names the helper and the call site when called with the wrong number of arguments", () => {
    expect(() => render("x\n  {{eq services.web.name}}")).toThrow(
      "/t.hbs:2:3: eq takes 2 argument(s), got 1\n  {{eq services.web.name}}\n  ^",
    );
  });
});

/** Strings that mean something to a config parser: quotes, escapes, variables, comments, blocks, control. */
const HOSTILE = [
  `a"b\\c$HOME#d;e{f}g h'i`,
  "%[env(HOME)] 50% %%",
  "'\\''",
  "x\ny\r\nz\t;",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: nginx's own ${variable} syntax, on purpose
  "$host ${x} \\$y",
  "\\n\\t\\",
  "é😀\u0000\u001b[31m",
];

/** The `x-value` header of GET / on 127.0.0.1:port. */
function header(port: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.headers["x-value"] as string | undefined));
    });
    req.on("timeout", () => req.destroy(new Error("GET timed out")));
    req.on("error", reject);
    req.end();
  });
}

describe("haproxyQuote", () => {
  it.each([
    ["plain", "'plain'"],
    ["it's", "'it'\\''s'"],
    ["100%", "'100%%'"],
    ["a\nb", "'a_b'"],
    // HAProxy takes an empty argument for a missing one.
    ["", "'_'"],
  ])("quotes %j as %s", (text, quoted) => {
    expect(haproxyQuote(text)).toBe(quoted);
  });

  it.each(HOSTILE)(
    "gives HAProxy one argument that reads back as %j, control characters as _",
    async (text) => {
      // An `hdr` of `http-request return` is a log-format argument: it is parsed twice, as config and as format.
      const haproxy = await startHaproxy(
        minimalConfig(`http-request return status 200 hdr x-value ${haproxyQuote(text)}`),
      );
      try {
        const check = await execa("haproxy", ["-c", "-f", haproxy.cfg], { env: haproxy.env, reject: false });
        expect([check.exitCode, await header(haproxy.port)]).toEqual([
          0,
          text.replace(/[^\x20-\x7e]/gu, "_"),
        ]);
      } finally {
        await haproxy.stop();
      }
    },
  );
});

describe("nginxQuote", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-nginx-quote-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["plain", '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["a\\nb", '"a\\\\nb"'],
    ["$host", '"_host"'],
    ["", '""'],
  ])("quotes %j as %s", (text, quoted) => {
    expect(nginxQuote(text)).toBe(quoted);
  });

  it.each(HOSTILE)(
    "gives nginx one argument that reads back as %j, $ and control characters as _",
    async (text) => {
      const port = await freePort();
      const conf = join(dir, "nginx.conf");
      const pid = join(dir, "nginx.pid");
      await writeFile(
        conf,
        `pid ${pid};\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n` +
          `    location / {\n      add_header X-Value ${nginxQuote(text)} always;\n      return 200;\n    }\n  }\n}\n`,
      );
      const test = await execa("nginx", ["-t", "-q", "-c", conf, "-p", dir], { reject: false });
      expect([test.exitCode, test.stderr]).toEqual([0, ""]);
      const nginx = execa("nginx", ["-c", conf, "-p", dir, "-g", "daemon off;"], {
        reject: false,
        stdin: "ignore",
      });
      try {
        let value: string | undefined;
        for (let i = 0; i < 100 && value === undefined; i++) {
          value = await header(port).catch(() => undefined);
          if (value === undefined) await new Promise((r) => setTimeout(r, 20));
        }
        expect(value).toBe(text.replace(/[^\x20-\x7e]/gu, "_").replaceAll("$", "_"));
      } finally {
        nginx.kill("SIGTERM");
        await nginx;
      }
    },
  );
});
