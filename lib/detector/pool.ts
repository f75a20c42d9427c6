/**
 * The deployment pool: images the detector will meet (here the test images *without their labels*), split by
 * content into three fixed parts so that adapting, choosing and reporting never share an image
 * (experiments/PROTOCOL-2.md):
 *
 *   adapt  — may be added to training as unlabelled images (pseudo-normals, see `pseudoNormalIndices`);
 *   select — label-free figures that choose model, score and threshold;
 *   report — final metrics only.
 *
 *   const pool = splitPool(list.test);            // { adapt: WellItem[], select: …, report: … }
 *   const keep = pseudoNormalIndices(scores, 0.9); // indices of the lowest 90 % of scores
 */
import type * as tf from "@tensorflow/tfjs";
import { reconstruct } from "./predict";
import { type ErrorStats, fitErrorStats, type ScoreName, scoreBatch } from "./scores";
import { gatherImages } from "./shape";
import { percentile } from "./thresholds";
import type { WellItem } from "./wells";

// Re-exported where it was first defined: pipeline.ts, the notebooks and tests import it from here.
export { gatherImages };

const POOL_PARTS = ["adapt", "select", "report"] as const;
export type PoolPart = (typeof POOL_PARTS)[number];

/** Which part an image belongs to: the first 8 hex digits of its SHA-1, mod 3 (copies of one image share a part). */
export function poolPart(hash: string): PoolPart {
  if (!/^[0-9a-f]{8}/i.test(hash)) throw new Error(`poolPart: expected a hex SHA-1, got "${hash}"`);
  return POOL_PARTS[parseInt(hash.slice(0, 8), 16) % 3];
}

export function splitPool(items: WellItem[]): Record<PoolPart, WellItem[]> {
  if (items.length === 0) throw new Error("splitPool: the deployment pool is empty");
  const parts: Record<PoolPart, WellItem[]> = { adapt: [], select: [], report: [] };
  for (const it of items) parts[poolPart(it.hash)].push(it);
  for (const p of POOL_PARTS)
    if (parts[p].length === 0) throw new Error(`splitPool: part "${p}" is empty (${items.length} images)`);
  return parts;
}

/** Positions in `items` of the images that belong to `part` (to take one part of a labelled test set's arrays). */
export function partIndices(items: WellItem[], part: PoolPart): number[] {
  const out: number[] = [];
  items.forEach((it, i) => poolPart(it.hash) === part && out.push(i));
  return out;
}

/**
 * Indices of the images whose score is at most the `keepFraction` quantile of all scores: the likely-normal part of
 * an unlabelled pool (spills score high, so most of them fall in the dropped top). NaN scores are never kept.
 */
export function pseudoNormalIndices(scores: ArrayLike<number>, keepFraction: number): number[] {
  if (!(keepFraction > 0 && keepFraction <= 1))
    throw new Error(`pseudoNormalIndices: keepFraction must be in (0, 1], got ${keepFraction}`);
  const finite = Array.from(scores).filter(Number.isFinite);
  if (finite.length === 0) throw new Error("pseudoNormalIndices: no finite scores");
  const limit = percentile(finite, 100 * keepFraction);
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) if (Number.isFinite(scores[i]) && scores[i] <= limit) out.push(i);
  return out;
}

/**
 * The likely-normal images of an unlabelled pool under a trained model: score each image, keep the lowest
 * `keepFraction`. Used to add the adapt part of the pool to training (experiments/PROTOCOL-2.md, experiment 7).
 */
export async function pseudoNormalImages(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  score: ScoreName,
  keepFraction: number,
) {
  const recon = await reconstruct(model, images, shape);
  const scores = scoreBatch(score, images, recon, shape);
  const kept = pseudoNormalIndices(scores, keepFraction);
  const per = shape[0] * shape[1] * shape[2];
  return {
    images: gatherImages(images, per, kept),
    /** The kept images' reconstructions (so a caller need not run the model again). */
    reconstructions: gatherImages(recon, per, kept),
    kept: kept.length,
    total: scores.length,
    limit: percentile(scores, 100 * keepFraction),
  };
}

/**
 * Reference error statistics for the zTopKMean score from an unlabelled pool: the pseudo-normals (lowest `keepFraction`
 * by `topKMean`) and their reconstructions. The pool must be images the model did not train on.
 *
 *   const stats = await poolErrorStats(model, adaptImages, [32, 48, 3]);   // ErrorStats
 */
export async function poolErrorStats(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  keepFraction = 0.9,
): Promise<ErrorStats> {
  const picked = await pseudoNormalImages(model, images, shape, "topKMean", keepFraction);
  return fitErrorStats(picked.images, picked.reconstructions, shape);
}
