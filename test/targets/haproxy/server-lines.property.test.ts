/**
 * The scanner reads plain lines by position and the others by regex: whatever a line holds, it must
 * read it as the regex alone reads it (the reference below is how every line was read before), or a
 * render compared with dest would see a change outside the servers that is not there, and reload.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig, scanConfig, spanHasOptions } from "../../../src/targets/haproxy/server-lines.js";

const SECTION = /^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|ring|cache)$/;

function reference(text: string) {
  const servers: [string, { address: string; options: string[]; line: number }][] = [];
  const rest: { text: string; line: number }[] = [];
  const proxies: string[] = [];
  let section = "";
  let proxy = "";
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const quoted = /["'\\]/.test(raw);
    const content = (raw.includes("#") && !quoted ? raw.slice(0, raw.indexOf("#")) : raw).trim();
    if (content === "") return;
    const inProxy = section === "backend" || section === "listen";
    const match = inProxy && !quoted ? /^server\s+(\S+)\s+(\S+)\s*(.*)$/.exec(content) : null;
    if (match) {
      const [, name, address = "", options = ""] = match;
      const list = options === "" ? [] : options.split(/\s+/);
      // The first `id` followed by a number is the line's id, not an option.
      const at = list.findIndex((o, i) => o === "id" && /^\d+$/.test(list[i + 1] ?? ""));
      const id = at < 0 ? undefined : Number(list.splice(at, 2)[1]);
      servers.push([
        `${proxy}/${name}`,
        { address, options: list, line, ...(id === undefined ? {} : { id }) },
      ]);
      return;
    }
    const [keyword = "", ...args] = content.split(/\s+/);
    if (SECTION.test(keyword)) {
      section = keyword;
      proxy = args[0] ?? "";
      if (section === "backend" || section === "listen") proxies.push(proxy);
    }
    rest.push({ text: content, line });
  });
  return { servers, rest, proxies: [...new Set(proxies)] };
}

const word = fc.constantFrom(
  "server",
  "backend",
  "listen",
  "global",
  "be",
  "s1",
  "127.0.0.1:80",
  "check",
  "inter",
  "2s",
  "id",
  "7",
  "012",
  "server-template",
  "x",
);
const blank = fc.constantFrom(" ", "  ", "\t", " \t", "\r", "\u00a0", "\v");
const noise = fc.constantFrom("", "#", "# c", "'", '"', "\\", "é", ";");
const lineArb = fc
  .tuple(
    fc.constantFrom("", "    ", "\t"),
    fc.array(fc.tuple(word, blank), { maxLength: 6 }),
    noise,
    fc.constantFrom("", " ", "\r"),
  )
  .map(([lead, words, tail, end]) => `${lead}${words.map(([w, b]) => w + b).join("")}${tail}${end}`);
const configArb = fc.array(
  fc.oneof(
    lineArb,
    fc.constantFrom(
      "backend be",
      "listen li",
      "frontend fe",
      "    server a 1.2.3.4:5 check",
      "server b [::1]:6",
      "    server c 1.2.3.4:7 id 12 check inter 2s",
    ),
  ),
  { maxLength: 30 },
);

describe("scanConfig", () => {
  it("reads every config as the regex reads it", () => {
    fc.assert(
      fc.property(configArb, (lines) => {
        const text = lines.join("\n");
        const parsed = parseConfig(text);
        const want = reference(text);
        expect(
          [...parsed.servers].map(([key, s]) => [
            key,
            {
              address: s.address,
              options: s.options,
              line: s.line,
              ...(s.id === undefined ? {} : { id: s.id }),
            },
          ]),
        ).toEqual([...new Map(want.servers)]);
        expect(parsed.rest).toEqual(want.rest);
        expect([...parsed.proxies]).toEqual(want.proxies);
      }),
      { numRuns: 2000 },
    );
  });

  it("compares a server line's options in place, token by token", () => {
    const seen: boolean[] = [];
    const lists = [
      ["check", "inter", "2s"],
      ["check", "inter"],
      ["check", "inter", "2"],
      [],
      ["check", "inter", "2s", "x"],
    ];
    for (const text of [
      "backend be\n  server a 1.2.3.4:5   check \tinter 2s  # comment",
      "backend be\n  server a 1.2.3.4:5",
    ]) {
      scanConfig(text, (span) => {
        for (const options of lists) seen.push(spanHasOptions(span, options));
      });
    }
    expect(seen).toEqual([true, false, false, false, false, false, false, false, true, false]);
  });

  it("leaves a line's id out of its options, wherever it stands", () => {
    const seen: boolean[] = [];
    for (const line of [
      "server a 1.2.3.4:5 id 12 check inter 2s",
      "server a 1.2.3.4:5 check id 12 inter 2s",
      "server a 1.2.3.4:5 check inter 2s id 12",
      "server a 1.2.3.4:5 check inter 2s id\u00a012",
      "server a 1.2.3.4:5 check inter 2s id x",
    ]) {
      scanConfig(`backend be\n  ${line}`, (span) =>
        seen.push(spanHasOptions(span, ["check", "inter", "2s"])),
      );
    }
    expect(seen).toEqual([true, true, true, true, false]);
    const parsed = parseConfig("backend be\n  server a 1.2.3.4:5 check id 12 inter 2s");
    expect(parsed.servers.get("be/a")).toMatchObject({ id: 12, options: ["check", "inter", "2s"] });
  });
});
