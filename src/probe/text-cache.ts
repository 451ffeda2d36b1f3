/**
 * Text of fixed-size byte fields (comm, addresses) that repeat from event to event: the same few
 * processes listen on the same few addresses. A direct-mapped cache keyed by the field's exact bytes
 * hands back the string made the first time, so a hit neither formats nor allocates. Bounded: a
 * colliding field evicts the slot's previous one.
 */
const SLOT_BITS = 8;
const SLOTS = 1 << SLOT_BITS;

export class TextCache {
  private readonly keys: Uint32Array;
  private readonly texts: Array<string | undefined> = new Array(SLOTS).fill(undefined);
  /** The field being looked up, read once. */
  private readonly key: Uint32Array;

  /** `words`: the field's length in 32-bit words (its text must depend on those bytes only). */
  constructor(
    private readonly words: number,
    private readonly format: (bytes: Buffer, offset: number) => string,
  ) {
    this.keys = new Uint32Array(SLOTS * words);
    this.key = new Uint32Array(words);
  }

  /** The text of the field at `offset` of `bytes`. */
  get(bytes: Buffer, offset: number): string {
    const { words, key, keys } = this;
    let hash = 0;
    for (let i = 0; i < words; i++) {
      key[i] = bytes.readUInt32LE(offset + 4 * i);
      hash = Math.imul(hash ^ (key[i] as number), 0x9e3779b1);
    }
    const slot = hash >>> (32 - SLOT_BITS);
    const base = slot * words;
    let text = this.texts[slot];
    for (let i = 0; text !== undefined && i < words; i++) if (keys[base + i] !== key[i]) text = undefined;
    if (text !== undefined) return text;
    text = this.format(bytes, offset);
    keys.set(key, base);
    this.texts[slot] = text;
    return text;
  }
}
