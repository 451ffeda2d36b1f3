import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Slots } from "../../src/registry/slots.js";

describe("Slots", () => {
  it("numbers from 1 and hands out the lowest free number first", () => {
    const slots = new Slots();
    expect([slots.take(), slots.take(), slots.take(), slots.take()]).toEqual([1, 2, 3, 4]);
    slots.give(3);
    slots.give(1);
    expect([slots.take(), slots.take(), slots.take()]).toEqual([1, 3, 5]);
    expect(slots.size).toBe(5);
  });

  it("never hands out a number in use, whatever the order of takes and gives", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40 }), { maxLength: 300 }), (script) => {
        const slots = new Slots();
        const held = new Set<number>();
        for (const step of script) {
          const inUse = [...held];
          if (step % 3 === 0 && inUse.length > 0) {
            const slot = inUse[step % inUse.length] as number;
            held.delete(slot);
            slots.give(slot);
            continue;
          }
          const slot = slots.take();
          let lowestFree = 1;
          while (held.has(lowestFree)) lowestFree++;
          expect(slot).toBe(lowestFree);
          held.add(slot);
        }
        expect(slots.size).toBe(held.size);
      }),
    );
  });
});
