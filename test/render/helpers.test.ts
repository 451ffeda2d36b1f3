import { describe, expect, it } from "vitest";
import { compileTemplateText } from "../../src/render/template.js";

const context = {
  services: {
    web: {
      name: "web",
      backends: [
        {
          id: "b1",
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
        },
        {
          id: "b2",
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
        },
      ],
    },
    "my.api-v2": { name: "my.api-v2", backends: [] },
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
  ])("%s → %j", (text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it("names the helper and the call site when called with the wrong number of arguments", () => {
    expect(() => render("x\n  {{eq services.web.name}}")).toThrow(
      "/t.hbs:2:3: eq takes 2 argument(s), got 1\n  {{eq services.web.name}}\n  ^",
    );
  });
});
