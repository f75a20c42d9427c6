/**
 * Labels of a labelled set: 0 normal, 1 spill. A leaf module (it imports nothing), so that train, validation and
 * lib/report can use it without importing pipeline.ts, which imports them.
 */

/** Indices of the items whose label is `label`: `indicesOf([0, 1, 0], 0)` → [0, 2]. */
export function indicesOf(labels: ArrayLike<number>, label: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === label) out.push(i);
  return out;
}
