/**
 * Remembers which sockets were already reported, so that a refusal is logged once per socket even
 * though every resync places every socket again. Two generations: a resync starts a new one and
 * carries over the sockets it sees again; what it does not see (closed) drops out with the older
 * generation. A cap bounds memory when resync is off and sockets come and go for a long time.
 */
const MAX_PER_GENERATION = 100_000;

export class OncePerSocket {
  #current = new Set<number>();
  #previous = new Set<number>();

  /** True the first time `sock` is asked about (within the two generations kept). */
  first(sock: number): boolean {
    if (this.#current.has(sock)) return false;
    const seen = this.#previous.has(sock);
    this.#current.add(sock);
    if (this.#current.size >= MAX_PER_GENERATION) this.nextGeneration();
    return !seen;
  }

  /** Called on resync, before the sockets are placed again. */
  nextGeneration(): void {
    this.#previous = this.#current;
    this.#current = new Set();
  }
}
