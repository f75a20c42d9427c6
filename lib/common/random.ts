/**
 * Seeded random numbers: the same seed gives the same sequence on every machine.
 * mulberry32 (a 32-bit state generator, public domain): small, fast and good enough for sampling and shuffling;
 * written here because Math.random cannot be seeded.
 *
 *   const rand = mulberry32(42);  rand()  // 0 <= x < 1
 *   shuffleInPlace([1, 2, 3, 4], mulberry32(1))
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle, in place; returns the array. */
export function shuffleInPlace<T>(items: T[] | Int32Array | Uint32Array, rand: Rng): typeof items {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}
