import { describe, expect, it } from "vitest";
import { safeText } from "../../src/render/safe-text.js";

describe("safeText", () => {
  it.each([
    ["python3", "python3"],
    ['a"b#c;d{e}f $g\\h', 'a"b#c;d{e}f $g\\h'],
    ["\nserver e 10.1#", "_server e 10.1#"],
    ["\r\nbind :1", "__bind :1"],
    ["tab\there\u0000\u007f\u001b[0m", "tab_here___[0m"],
    ["é😀", "__"],
    [Buffer.from([0x66, 0xff, 0xfe, 0x6f]).toString("utf8"), "f__o"],
    ["", ""],
  ])("makes %j one line of printable ASCII: %j", (text, safe) => {
    expect(safeText(text)).toBe(safe);
  });
});
