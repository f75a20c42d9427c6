/**
 * Fusing anomaly scores without labels: each score is put on its reference normals' scale (robust z: its median and
 * its MAD over reference normal images, so a few odd references move nothing), then the z-scores are summed or
 * maxed. A spill that one score misses can still be caught by the other: a reconstruction error sees a foreign blob,
 * a feature density sees a well that is too smooth.
 *
 *   const fusion = fitFusion({ zTopKMean: refA, density: refB }, "sum", "held-out normals");
 *   fuse(fusion, { zTopKMean: a, density: b })   // Float32Array: zA + zB per image
 *   robustZ(robustScale(refA), a)                // one score on the reference scale
 */
const FUSION_RULES = ["sum", "max"] as const;
export type FusionRule = (typeof FUSION_RULES)[number];

/** 1.4826 × MAD estimates the standard deviation of a normal distribution. */
const MAD_TO_SD = 1.4826;

export interface RobustScale {
  median: number;
  /** 1.4826 × the median absolute deviation. */
  mad: number;
  count: number;
}

export interface Fusion {
  rule: FusionRule;
  /** Score names in order, each with its reference scale. */
  parts: string[];
  scales: Record<string, RobustScale>;
  fittedOn: string;
}

function median(sorted: Float64Array): number {
  const n = sorted.length,
    h = n >> 1;
  return n % 2 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}

/** Median and scaled MAD of reference scores; refuses NaN and a spread of zero (the scale would divide by 0). */
export function robustScale(reference: ArrayLike<number>, what = "reference scores"): RobustScale {
  if (reference.length === 0) throw new Error(`robustScale: ${what} are empty`);
  const v = Float64Array.from(reference);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i])) throw new Error(`robustScale: ${what}[${i}] is ${v[i]}`);
  v.sort();
  const med = median(v);
  const dev = Float64Array.from(v, (x) => Math.abs(x - med)).sort();
  const mad = MAD_TO_SD * median(dev);
  if (!(mad > 0))
    throw new Error(
      `robustScale: ${what} have no spread (half or more equal ${med}); this score cannot be standardised`,
    );
  return { median: med, mad, count: v.length };
}

/** (score − median) / MAD per value. */
export function robustZ(scale: RobustScale, scores: ArrayLike<number>): Float32Array {
  return Float32Array.from(scores, (s) => (s - scale.median) / scale.mad);
}

/** Reference scales for each named score (all over the same reference images). */
export function fitFusion(reference: Record<string, ArrayLike<number>>, rule: FusionRule, fittedOn: string): Fusion {
  if (!FUSION_RULES.includes(rule))
    throw new Error(`fitFusion: rule must be one of ${FUSION_RULES.join(", ")}, got "${rule}"`);
  const parts = Object.keys(reference);
  if (parts.length < 2) throw new Error(`fitFusion: fuse at least two scores, got ${parts.join(", ") || "none"}`);
  const n = reference[parts[0]].length;
  for (const p of parts)
    if (reference[p].length !== n)
      throw new Error(`fitFusion: score ${p} has ${reference[p].length} reference values, ${parts[0]} has ${n}`);
  const scales = Object.fromEntries(parts.map((p) => [p, robustScale(reference[p], `reference ${p} scores`)]));
  return { rule, parts, scales, fittedOn };
}

/** The fused score of each image: sum or max of the parts' robust z-scores. */
export function fuse(fusion: Fusion, scores: Record<string, ArrayLike<number>>): Float32Array {
  const missing = fusion.parts.filter((p) => !scores[p]);
  if (missing.length)
    throw new Error(`fuse: scores ${missing.join(", ")} are missing (the fusion needs ${fusion.parts.join(", ")})`);
  const n = scores[fusion.parts[0]].length;
  for (const p of fusion.parts)
    if (scores[p].length !== n)
      throw new Error(`fuse: score ${p} has ${scores[p].length} values, ${fusion.parts[0]} has ${n}`);
  const out = new Float32Array(n).fill(fusion.rule === "max" ? -Infinity : 0);
  for (const p of fusion.parts) {
    const z = robustZ(fusion.scales[p], scores[p]);
    for (let i = 0; i < n; i++) out[i] = fusion.rule === "max" ? Math.max(out[i], z[i]) : out[i] + z[i];
  }
  return out;
}
