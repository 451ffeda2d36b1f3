/**
 * Small numbers, each held by one backend of a service while it lives: the template's `slot`, which
 * the shipped HAProxy template gives its server lines as `id` (HAProxy 2.6 numbers id-less servers
 * of a backend in O(n²) when it parses a config: 10,000 in one backend take 1.5 s to check, 0.08 s
 * with ids). A new backend takes the lowest free number, so that a fleet found at start-up (the
 * snapshot comes in a stable order) is numbered the same way every time. O(log n) per call.
 */
export class Slots {
  #next = 1;
  /** Numbers given back, as a binary min-heap. */
  readonly #free: number[] = [];

  take(): number {
    const heap = this.#free;
    const lowest = heap[0];
    if (lowest === undefined) return this.#next++;
    const last = heap.pop() as number;
    if (heap.length === 0) return lowest;
    // Sift `last` down from the root.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && (heap[child + 1] as number) < (heap[child] as number)) child++;
      if ((heap[child] as number) >= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
    return lowest;
  }

  give(slot: number): void {
    const heap = this.#free;
    let i = heap.push(slot) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= slot) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = slot;
  }

  /** Numbers in use. */
  get size(): number {
    return this.#next - 1 - this.#free.length;
  }
}
