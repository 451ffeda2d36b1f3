/**
 * Cuts the byte stream of a stats-socket connection in interactive mode (`prompt`) into answers.
 *
 * In that mode HAProxy 2.6 ends the output of every command with the prompt "\n> " (cli.c: "the
 * post-command prompt is either LF alone or LF + '> ' in interactive mode"), the `prompt` command
 * included. The management guide says each answer ends with an empty line, but the prompt is the only
 * delimiter that always holds: `del server` answers "Server deleted." without a newline of its own,
 * and an `add server` with a bad port answers with an empty line inside. No answer to a command lbwatch
 * sends has a line starting with "> ": names and values are guarded to a charset without ">"
 * (runtime-commands.ts), and HAProxy's own lines start with a field name, a number or spaces.
 *
 * Chunks are kept as slices and joined once per answer, so an answer of many megabytes
 * (`show servers state` of 100,000 servers) costs one copy instead of a quadratic concatenation.
 */
const DELIMITER = Buffer.from("\n> ");
const NEWLINE = 0x0a;

export class PromptFrames {
  readonly #onAnswer: (answer: string) => void;
  /** The bytes of the answer being received, as slices of the chunks they came in. */
  #parts: Buffer[] = [];
  #length = 0;

  /** `onAnswer` gets each complete answer, without the newlines that end it. */
  constructor(onAnswer: (answer: string) => void) {
    this.#onAnswer = onAnswer;
  }

  push(chunk: Buffer): void {
    let start = this.#completeStraddling(chunk);
    for (;;) {
      const at = chunk.indexOf(DELIMITER, start);
      if (at < 0) break;
      this.#parts.push(chunk.subarray(start, at));
      this.#length += at - start;
      this.#emit(0);
      start = at + DELIMITER.length;
    }
    if (start < chunk.length) {
      this.#parts.push(chunk.subarray(start));
      this.#length += chunk.length - start;
    }
  }

  /**
   * A delimiter may begin in the bytes already held and end in `chunk`: emits that answer and returns
   * where the rest of `chunk` starts (0 when there was none).
   */
  #completeStraddling(chunk: Buffer): number {
    const held = Math.min(this.#length, DELIMITER.length - 1);
    if (held === 0) return 0;
    const tail = Buffer.concat(this.#parts.slice(-held)).subarray(-held);
    const window = Buffer.concat([tail, chunk.subarray(0, DELIMITER.length - 1)]);
    const at = window.indexOf(DELIMITER);
    if (at < 0 || at >= held) return 0;
    this.#emit(held - at);
    return DELIMITER.length - (held - at);
  }

  /** Emits the held bytes but the last `drop` (the start of a delimiter) as one answer. */
  #emit(drop: number): void {
    const bytes = Buffer.concat(this.#parts, this.#length);
    this.#parts = [];
    this.#length = 0;
    let end = bytes.length - drop;
    while (end > 0 && bytes[end - 1] === NEWLINE) end--;
    this.#onAnswer(bytes.toString("utf8", 0, end));
  }
}
