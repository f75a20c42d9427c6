/**
 * The validation suite that chooses models and scores without test labels: held-out normals against
 * (a) proliv/ spills and (b) synthetic defects on *other* held-out normals (lib/synthetic.ts), per score.
 *
 * proliv/ alone saturates (one spill event); the synthetic set keeps ranking models after that. Normals used to
 * make defects are not used as negatives, so a defect is never compared with its own clean original.
 *
 *   const suite = buildValidationSuite(prepared.trainData.validation, shape, { seed: 7 });
 *   const summary = await summarizeValidation(model, suite, shape, ["mse", "maxSmoothed"]);
 */
import type * as tf from "@tensorflow/tfjs";
import { auroc, metricsAtThreshold } from "./metrics";
import { reconstruct } from "./predict";
import { type ScoreName, type ScoreOptions, scoreBatch } from "./scores";
import { type AnomalyKind, syntheticAnomalies } from "./synthetic";
import { percentile } from "./thresholds";
import { indicesOf } from "./labels";
import { gatherImages } from "./shape";

export interface ValidationSuite {
  normals: Float32Array;
  proliv: Float32Array;
  synthetic: Float32Array;
  syntheticKinds: AnomalyKind[];
}

/** Split validation normals in two halves: negatives, and the originals of the synthetic defects. */
export function buildValidationSuite(
  validation: { data: Float32Array; labels: Uint8Array },
  shape: [number, number, number],
  options: { seed?: number } = {},
): ValidationSuite {
  const per = shape[0] * shape[1] * shape[2];
  const normals = indicesOf(validation.labels, 0);
  const spills = indicesOf(validation.labels, 1);
  if (normals.length < 2) throw new Error("validation suite: need at least two held-out normal images");
  const gather = (idx: number[]) => gatherImages(validation.data, per, idx);
  const negatives = normals.filter((_, k) => k % 2 === 0);
  const originals = normals.filter((_, k) => k % 2 === 1);
  const syn = syntheticAnomalies(gather(originals), shape, { seed: options.seed ?? 7 });
  return { normals: gather(negatives), proliv: gather(spills), synthetic: syn.data, syntheticKinds: syn.kinds };
}

export interface ScoreSummary<N extends string = ScoreName> {
  score: N;
  aurocProliv: number;
  aurocSynthetic: number;
  aurocByKind: Record<string, number>;
  /** Share of synthetic defects / proliv spills above the 97.5th percentile of normal scores. */
  tprSyntheticAtP975: number;
  tprProlivAtP975: number;
}

function concat(a: Float32Array, b: Float32Array) {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export async function summarizeValidation(
  model: tf.LayersModel,
  suite: ValidationSuite,
  shape: [number, number, number],
  scores: ScoreName[],
  scoreOptions: ScoreOptions = {},
): Promise<ScoreSummary[]> {
  const rec = async (x: Float32Array) => ({ x, r: await reconstruct(model, x, shape) });
  const sets = {
    normals: await rec(suite.normals),
    proliv: await rec(suite.proliv),
    synthetic: await rec(suite.synthetic),
  };
  const scored = (k: keyof typeof sets) =>
    Object.fromEntries(
      scores.map((score) => [score, scoreBatch(score, sets[k].x, sets[k].r, shape, scoreOptions)]),
    ) as Record<ScoreName, Float32Array>;
  return summarizeScored(
    scores,
    { normals: scored("normals"), proliv: scored("proliv"), synthetic: scored("synthetic") },
    suite.syntheticKinds,
  ) as ScoreSummary[];
}

/**
 * The validation figures from scores already computed on a suite's three sets (any scorer: reconstruction scores,
 * feature densities, fusions): AUROC of proliv and of synthetic defects (overall and per kind) against the normals,
 * and the share of each above the normals' 97.5th percentile.
 */
export function summarizeScored<N extends string>(
  names: readonly N[],
  sets: Record<"normals" | "proliv" | "synthetic", Record<N, Float32Array>>,
  syntheticKinds: readonly string[],
) {
  return names.map((score) => {
    const neg = sets.normals[score],
      pro = sets.proliv[score],
      syn = sets.synthetic[score];
    const auc = (pos: Float32Array) =>
      auroc([...Array(neg.length).fill(0), ...Array(pos.length).fill(1)], concat(neg, pos));
    const t = percentile(Array.from(neg), 97.5);
    const tprAt = (pos: Float32Array) => metricsAtThreshold(Array(pos.length).fill(1), pos, t).tpr;
    const byKind: Record<string, number> = {};
    for (const kind of new Set(syntheticKinds)) byKind[kind] = auc(syn.filter((_, i) => syntheticKinds[i] === kind));
    const none = pro.length === 0; // no known anomalies: their figures are NaN
    return {
      score,
      aurocProliv: none ? NaN : auc(pro),
      aurocSynthetic: auc(syn),
      aurocByKind: byKind,
      tprSyntheticAtP975: tprAt(syn),
      tprProlivAtP975: none ? NaN : tprAt(pro),
    };
  });
}

/**
 * Label-free check of whether validation normals represent the images the detector will meet: quantiles of the
 * held-out normals' scores against quantiles of *unlabelled* deployment scores (say, the test images without their
 * labels). Spills are rare, so the deployment median and quartile are normals' figures; a ratio well above 1 says
 * deployment normals score higher than validation normals, and a percentile of validation normals will flag too many.
 *
 *   scoreShift(heldOutNormalScores, deploymentScores)  // [{ quantile: 50, heldOut, deployment, ratio }, …]
 */
export function scoreShift(heldOutNormals: ArrayLike<number>, deployment: ArrayLike<number>, quantiles = [50, 75, 90]) {
  if (heldOutNormals.length === 0 || deployment.length === 0)
    throw new Error("scoreShift: both score lists must be non-empty");
  return quantiles.map((q) => {
    const heldOut = percentile(heldOutNormals, q),
      dep = percentile(deployment, q);
    return { quantile: q, heldOut, deployment: dep, ratio: dep / heldOut };
  });
}

export interface PoolSummary extends ScoreSummary {
  /** Mean of proliv-vs-pool and synthetic-on-pool AUROC: the selection value of experiments/PROTOCOL-2.md. */
  selection: number;
}

/**
 * The label-free validation on deployment images (experiments/PROTOCOL-2.md): the same two figures as
 * `summarizeValidation`, with the pool's *select* images in place of the held-out normals — proliv/ spills against
 * half of them, synthetic defects on the other half against the first. The pool holds a few spills; they only
 * lower both AUROCs, alike for every model.
 *
 *   const rows = await poolValidation(model, selectImages, prolivImages, [32, 48, 3], ["mse", "topKMean"]);
 *   rows[0].selection   // mean of rows[0].aurocProliv and rows[0].aurocSynthetic
 */
/**
 * The suite of the pool validation: proliv spills as positives, the pool's images split in two halves as negatives
 * and as originals of the synthetic defects (buildValidationSuite). Used by `poolValidation` and by lib/detector.
 */
export function poolSuite(
  pool: Float32Array,
  proliv: Float32Array,
  shape: [number, number, number],
  options: { seed?: number } = {},
): ValidationSuite {
  const per = shape[0] * shape[1] * shape[2];
  const labels = new Uint8Array(pool.length / per + proliv.length / per);
  labels.fill(1, pool.length / per);
  return buildValidationSuite({ data: concat(pool, proliv), labels }, shape, options);
}

export async function poolValidation(
  model: tf.LayersModel,
  pool: Float32Array,
  proliv: Float32Array,
  shape: [number, number, number],
  scores: ScoreName[],
  options: { seed?: number; scoreOptions?: ScoreOptions } = {},
): Promise<PoolSummary[]> {
  const suite = poolSuite(pool, proliv, shape, options);
  const rows = await summarizeValidation(model, suite, shape, scores, options.scoreOptions);
  return rows.map((r) => ({ ...r, selection: (r.aurocProliv + r.aurocSynthetic) / 2 }));
}
