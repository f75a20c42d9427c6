/**
 * One label-free evaluation pipeline (experiments/PROTOCOL-3.md), the same for `npm run promote`, `npm run
 * experiment` and notebook 04: load a checkpoint, prepare the data at its input size, fit the detector's reference
 * parts, compute the pool validation of every score, choose the score and its threshold. No label of the pool is read.
 *
 *   const run = await evaluateCheckpoint("runs/a/best", { onMessage: console.log });
 *   run.rows          // DetectorPoolSummary per score (selection value, per-kind AUROC)
 *   run.choice        // { score, reason } by chooseScoreByRule
 *   run.threshold     // CheckedThreshold: pool5 or the reference-quantile fallback, with the reason
 */
import * as path from "node:path";
import { loadModel, readModelMetadata } from "./checkpoint";
import { prepareWells, type PreparedWells } from "./dataset";
import { detectorPoolValidation, detectorScores, availableScores, fitDetector, type Detector, type DetectorPoolSummary, type DetectorScore } from "./detector";
import { loadCached } from "./image-cache";
import { gatherImages, splitPool } from "./pool";
import { checkedPoolThreshold, type CheckedThreshold } from "./validation";

/** PROTOCOL-3.md: a candidate must beat the baseline by this much to replace it … */
export const PROMOTION_MARGIN = 0.005;
/** … and between candidates this close to the best, the simpler is taken. */
export const TIE_MARGIN = 0.002;
export const BASELINE_SCORE: DetectorScore = "zTopKMean";

/** How many fitted parts a score needs: the simplicity order of PROTOCOL-3.md's tie rule. */
export function scoreComplexity(score: DetectorScore): number {
  return score === "densityAdapted" ? 2 : score.startsWith("fusion") ? 3 : score === "zTopKMean" || score === "density" ? 1 : 0;
}

export interface ScoreChoice {
  score: DetectorScore;
  selection: number;
  reason: string;
}

/**
 * The choice rule of PROTOCOL-3.md over one model's rows: the best selection value wins, but replaces the baseline
 * score only by `PROMOTION_MARGIN`, and among rows within `TIE_MARGIN` of the best the simplest wins.
 */
export function chooseScoreByRule<R extends { score: DetectorScore; selection: number }>(rows: readonly R[], baseline: DetectorScore = BASELINE_SCORE): ScoreChoice {
  if (rows.length === 0) throw new Error("chooseScoreByRule: no rows");
  const best = rows.reduce((a, r) => (r.selection > a.selection ? r : a));
  const near = rows.filter((r) => r.selection >= best.selection - TIE_MARGIN).sort((a, b) => scoreComplexity(a.score) - scoreComplexity(b.score) || b.selection - a.selection);
  const pick = near[0];
  const base = rows.find((r) => r.score === baseline);
  if (base && pick.score !== baseline && pick.selection < base.selection + PROMOTION_MARGIN)
    return { score: baseline, selection: base.selection, reason: `${pick.score} (${pick.selection.toFixed(4)}) does not beat the baseline ${baseline} (${base.selection.toFixed(4)}) by ${PROMOTION_MARGIN}` };
  return {
    score: pick.score,
    selection: pick.selection,
    reason:
      pick === best
        ? `highest selection value ${best.selection.toFixed(4)}${base && pick.score !== baseline ? `, +${(best.selection - base.selection).toFixed(4)} over ${baseline}` : ""}`
        : `within ${TIE_MARGIN} of the best (${best.score} ${best.selection.toFixed(4)}) and simpler`,
  };
}

export interface CheckpointEvaluation {
  dir: string;
  metadata: Record<string, unknown>;
  ds: PreparedWells;
  detector: Detector;
  /** The held-out normals (reference) and the proliv spills of the validation set. */
  referenceNormals: Float32Array;
  proliv: Float32Array;
  /** The pool's select images (unlabelled). */
  select: Float32Array;
  rows: DetectorPoolSummary[];
  choice: ScoreChoice;
  threshold: CheckedThreshold;
}

export interface EvaluateOptions {
  data?: string;
  onMessage?: (text: string) => void;
  /** Score only these (default: every score the detector can compute). */
  scores?: DetectorScore[];
}

/** The whole label-free pipeline for one checkpoint folder (a run's best/, or a promoted model). */
export async function evaluateCheckpoint(dir: string, options: EvaluateOptions = {}): Promise<CheckpointEvaluation> {
  const say = options.onMessage ?? (() => {});
  const metadata = readModelMetadata(dir) as { shape?: [number, number, number]; trainedOnPool?: string };
  if (!metadata.shape) throw new Error(`${path.join(dir, "model.json")} has no input shape in its metadata (not saved by npm run train?)`);
  const shape = metadata.shape;
  const ds = await prepareWells({ root: options.data, size: { height: shape[0], width: shape[1], channels: shape[2] as 1 | 3 } });
  const model = await loadModel(dir);
  const per = shape[0] * shape[1] * shape[2];
  const labels = ds.trainData.validation.labels;
  const idx = (want: number) => labels.reduce<number[]>((a, l, i) => (l === want ? (a.push(i), a) : a), []);
  const referenceNormals = gatherImages(ds.trainData.validation.data, per, idx(0));
  const proliv = gatherImages(ds.trainData.validation.data, per, idx(1));
  const pool = ds.list.test.length ? splitPool(ds.list.test) : null;
  const adapt = pool ? (await loadCached(pool.adapt, ds.size)).data : null;
  const select = pool ? (await loadCached(pool.select, ds.size)).data : new Float32Array(0); // images only: labels are not read
  const detector = await fitDetector(model, shape, {
    train: ds.trainData.train, reference: referenceNormals, adapt, trainedOnPool: !!metadata.trainedOnPool, onMessage: say,
    trainName: "the train part of train/", adaptName: "the pool's adapt part",
  });
  const names = options.scores ?? availableScores(detector);
  if (!pool || proliv.length === 0) throw new Error("the pool validation needs unlabelled pool images (test/) and validation spills (proliv/)");
  say(`pool validation of ${names.length} scores on ${select.length / per} select images and ${proliv.length / per} proliv spills`);
  const rows = await detectorPoolValidation(detector, select, proliv, names);
  const choice = chooseScoreByRule(rows);
  const [sel, ref] = await Promise.all([detectorScores(detector, select, [choice.score]), detectorScores(detector, referenceNormals, [choice.score])]);
  const threshold = checkedPoolThreshold(sel[choice.score], ref[choice.score]);
  return { dir, metadata, ds, detector, referenceNormals, proliv, select, rows, choice, threshold };
}
