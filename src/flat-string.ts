/**
 * Strings that lbwatch keeps per backend, built flat. A template literal of 13 characters or more
 * makes a V8 rope (a 32-byte ConsString pointing at its parts), and a substring that long is a slice
 * that keeps its whole source alive: with 100,000 backends, ids, endpoints and map keys held as ropes
 * or as slices of a 13 MB `show servers state` answer cost more than the records holding them.
 * `Array.prototype.join` of two or more parts writes one sequential string instead.
 */

/**
 * `text` flattened in place: a rope of many pieces (a Handlebars `each` builds its output one `+=` at
 * a time) holds every piece until something reads it whole, by then often promoted to the old space.
 * Any search reads it whole, so V8 copies it into one string and lets the pieces go.
 */
export function flattened(text: string): string {
  text.indexOf("\0");
  return text;
}

/** `parts` joined into one flat string. */
export const flat = (...parts: (string | number)[]): string => parts.join("");

/** A copy of `text` that keeps no larger string alive. */
export const detached = (text: string): string =>
  text.length < 13 ? text : flat(text.slice(0, 1), text.slice(1));
