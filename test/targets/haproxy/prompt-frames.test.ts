import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PromptFrames } from "../../../src/targets/haproxy/prompt-frames.js";

/** Bytes as HAProxy 2.6 sent them for: prompt, add, enable, enable of an unknown server, del, bad add. */
const STREAM = Buffer.from(
  "\n> New server registered.\n\n> \n> No such server.\n\n> Server deleted.\n> " +
    "invalid character 'x' in port number 'xx' in 'not_an_addr:xx'\n\n\n> 1\n# be_id be_name\n3 bé\n\n> ",
);
const ANSWERS = [
  "",
  "New server registered.",
  "",
  "No such server.",
  "Server deleted.",
  "invalid character 'x' in port number 'xx' in 'not_an_addr:xx'",
  "1\n# be_id be_name\n3 bé",
];

function framesOf(chunks: Buffer[]): string[] {
  const answers: string[] = [];
  const frames = new PromptFrames((answer) => answers.push(answer));
  for (const chunk of chunks) frames.push(chunk);
  return answers;
}

describe("PromptFrames", () => {
  it("cuts answers at the prompt, whether or not HAProxy ended them with an empty line", () => {
    expect(framesOf([STREAM])).toEqual(ANSWERS);
  });

  it("finds the same answers whatever the chunks the bytes arrive in, one byte each included", () => {
    expect(framesOf([...STREAM].map((byte) => Buffer.from([byte])))).toEqual(ANSWERS);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 })), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
        const chunks = at.slice(1).map((end, i) => STREAM.subarray(at[i], end));
        expect(framesOf(chunks)).toEqual(ANSWERS);
      }),
      { numRuns: 500 },
    );
  });

  it("holds an unfinished answer until its prompt arrives", () => {
    const answers: string[] = [];
    const frames = new PromptFrames((answer) => answers.push(answer));
    frames.push(Buffer.from("\n> Name: HAProxy\nPid: 12\n"));
    expect(answers).toEqual([""]);
    frames.push(Buffer.from("\n"));
    frames.push(Buffer.from(">"));
    expect(answers).toEqual([""]);
    frames.push(Buffer.from(" "));
    expect(answers).toEqual(["", "Name: HAProxy\nPid: 12"]);
  });

  it("joins an answer of 100,000 rows sent in 64 kB chunks into one", () => {
    const row = "3 be_web 17 web-1 127.0.0.1 2 0 1 1 12 6 3 4 6 0 0 0 - 8001 - 0 0 - - 0";
    const answer = ["1", "# header", ...Array.from({ length: 100_000 }, () => row)].join("\n");
    const bytes = Buffer.from(`${answer}\n\n> `);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) =>
      bytes.subarray(i * 65536, (i + 1) * 65536),
    );
    expect(framesOf(chunks)).toEqual([answer]);
  });
});
