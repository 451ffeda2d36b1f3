/**
 * Any process can name itself with any 15 bytes. Whatever they are, a render of the shipped HAProxy
 * template, with the process name in a comment after each server and in a quoted header value, has
 * exactly the lines and servers of a render with harmless names, and passes the real `haproxy -c`.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import { makeBackend } from "../../src/registry/backend.js";
import { buildContext } from "../../src/render/context.js";
import { compileTemplateText } from "../../src/render/template.js";

const TEMPLATE = new URL("../../templates/haproxy.cfg.hbs", import.meta.url).pathname;
const SERVERS = 6;
const rules: ServiceRule[] = [{ name: "web", ports: [{ from: 8000, to: 8099 }], netns: { kind: "any" } }];

/** The shipped template, with comm where a template author might put it (README's example line). */
function withComm(source: string): string {
  // The end of the server line: the call of the partial for the operator's own options.
  const server = "{{> server-options}}";
  if (source.split(server).length !== 2) throw new Error("the shipped template's server line changed");
  return source.replace(
    server,
    `${server} # {{comm}} pid {{pid}}\n    http-response set-header X-Comm-{{id}} {{haproxyQuote comm}}`,
  );
}

/** Process names as the probe decodes them: up to 15 bytes before the first NUL, as UTF-8. */
const special = [0x0a, 0x0d, 0x09, 0x00, 0x23, 0x27, 0x22, 0x25, 0x5c, 0x24, 0x7b, 0x7d, 0x3b, 0x20, 0xff];
const comm = fc
  .oneof(fc.uint8Array({ maxLength: 15 }), fc.array(fc.constantFrom(...special), { maxLength: 15 }))
  .map((bytes) => {
    const buf = Buffer.from(bytes);
    const end = buf.indexOf(0);
    return buf.toString("utf8", 0, end < 0 ? buf.length : end);
  });

function render(template: ReturnType<typeof compileTemplateText>, comms: string[]): string {
  const backends = comms.map((name, i) =>
    makeBackend(
      "local",
      {
        key: String(i + 1),
        service: "web",
        family: 4,
        address: "127.0.0.1",
        port: 8000 + i,
        host: "h1",
        pid: 100 + i,
        comm: name,
        uid: 0,
        netns: 1,
        backlog: 128,
        since: 0,
      },
      0,
      true,
      i + 1,
    ),
  );
  return template.render(buildContext(rules, backends));
}

describe("process names through buildContext, the shipped HAProxy template and haproxy -c", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-comm-property-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("never add a line or a server, and always pass the check", async () => {
    const template = compileTemplateText(withComm(await readFile(TEMPLATE, "utf8")), TEMPLATE);
    const plain = render(
      template,
      Array.from({ length: SERVERS }, () => "x"),
    ).split("\n");
    const servers = (lines: string[]) => lines.filter((l) => /^\s*server\s/.test(l)).length;
    expect(servers(plain)).toBe(SERVERS);
    const file = join(dir, "haproxy.cfg");
    const env = {
      LBWATCH_HAPROXY_BIND: "127.0.0.1:1",
      LBWATCH_HAPROXY_STATS_SOCKET: join(dir, "admin.sock"),
    };
    await fc.assert(
      fc.asyncProperty(fc.array(comm, { minLength: SERVERS, maxLength: SERVERS }), async (comms) => {
        const lines = render(template, comms).split("\n");
        expect([lines.length, servers(lines)]).toEqual([plain.length, SERVERS]);
        await writeFile(file, lines.join("\n"));
        const check = await execa("haproxy", ["-c", "-f", file], { env, reject: false });
        expect([check.exitCode, check.stderr]).toEqual([0, ""]);
      }),
      { numRuns: 30 },
    );
  }, 30_000);
});
