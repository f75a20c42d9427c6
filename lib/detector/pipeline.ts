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
import * as fs from "node:fs";
import * as path from "node:path";
import { loadModel, readModelMetadata } from "./checkpoint";
import { readDetectorConfig } from "./config";
import { prepareWells, type PreparedWells } from "./dataset";
import {
  detectorPoolValidation,
  detectorScores,
  availableScores,
  fitDetector,
  type Detector,
  type DetectorPoolSummary,
  type DetectorScore,
} from "./detector";
import { loadCached } from "./image-cache";
import { gatherImages, splitPool } from "./pool";
import { checkedPoolThreshold, type CheckedThreshold } from "./thresholds";

/** A run folder's best checkpoint, or the folder itself when it holds a model. */
export function checkpointDir(p: string): string {
  if (fs.existsSync(path.join(p, "model.json"))) return p;
  const best = path.join(p, "best");
  if (fs.existsSync(path.join(best, "model.json"))) return best;
  throw new Error(
    `${p} holds neither model.json nor best/model.json (a run folder of npm run train, or a model folder)`,
  );
}

/** PROTOCOL-3.md: a candidate must beat the baseline by this much to replace it … */
export const PROMOTION_MARGIN = 0.005;
/** … and between candidates this close to the best, the simpler is taken. */
export const TIE_MARGIN = 0.002;
export const BASELINE_SCORE: DetectorScore = "zTopKMean";

/** How many fitted parts a score needs: the simplicity order of PROTOCOL-3.md's tie rule. */
export function scoreComplexity(score: DetectorScore): number {
  return score === "densityAdapted"
    ? 2
    : score.startsWith("fusion")
      ? 3
      : score === "zTopKMean" || score === "density"
        ? 1
        : 0;
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
export function chooseScoreByRule<R extends { score: DetectorScore; selection: number }>(
  rows: readonly R[],
  baseline: DetectorScore = BASELINE_SCORE,
): ScoreChoice {
  if (rows.length === 0) throw new Error("chooseScoreByRule: no rows");
  const best = rows.reduce((a, r) => (r.selection > a.selection ? r : a));
  const near = rows
    .filter((r) => r.selection >= best.selection - TIE_MARGIN)
    .sort((a, b) => scoreComplexity(a.score) - scoreComplexity(b.score) || b.selection - a.selection);
  const pick = near[0];
  const base = rows.find((r) => r.score === baseline);
  if (base && pick.score !== baseline && pick.selection < base.selection + PROMOTION_MARGIN)
    return {
      score: baseline,
      selection: base.selection,
      reason: `${pick.score} (${pick.selection.toFixed(4)}) does not beat the baseline ${baseline} (${base.selection.toFixed(4)}) by ${PROMOTION_MARGIN}`,
    };
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
  /** The pool's select images (unlabelled), or null without a pool. */
  select: Float32Array | null;
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
  const metadata = readModelMetadata(dir) as { trainedOnPool?: string };
  // the size and the split the model was trained with, from its stored config
  const config = readDetectorConfig(metadata, path.join(dir, "model.json"));
  if (config.legacy)
    say(`${dir}: saved before the config was stored; split rebuilt as ${JSON.stringify(config.split)}`);
  const shape: [number, number, number] = [config.height, config.width, config.channels];
  const ds = await prepareWells({
    root: options.data,
    size: { height: config.height, width: config.width, channels: config.channels },
    holdoutFraction: config.split.holdout,
    seed: config.split.seed,
  });
  const model = await loadModel(dir);
  const per = shape[0] * shape[1] * shape[2];
  const labels = ds.trainData.validation.labels;
  const idx = (want: number) => labels.reduce<number[]>((a, l, i) => (l === want ? (a.push(i), a) : a), []);
  const referenceNormals = gatherImages(ds.trainData.validation.data, per, idx(0));
  const proliv = gatherImages(ds.trainData.validation.data, per, idx(1));
  // the pool: the test images without their labels, when there are enough to split in three parts
  const pool = ds.list.test.length >= 30 ? splitPool(ds.list.test) : null;
  const adapt = pool ? (await loadCached(pool.adapt, ds.size)).data : null;
  const select = pool ? (await loadCached(pool.select, ds.size)).data : null; // images only: labels are not read
  if (!pool)
    say(
      `no unlabelled pool (${ds.list.test.length} test images): validation on the held-out normals, threshold from them`,
    );
  const detector = await fitDetector(model, shape, {
    train: ds.trainData.train,
    reference: referenceNormals,
    adapt,
    trainedOnPool: !!metadata.trainedOnPool,
    onMessage: say,
    trainName: "the train part of train/",
    adaptName: "the pool's adapt part",
  });
  const names = options.scores ?? availableScores(detector);
  const negatives = select ?? referenceNormals;
  say(
    `validation of ${names.length} scores on ${negatives.length / per} ${select ? "pool select" : "held-out normal"} images` +
      (proliv.length ? ` and ${proliv.length / per} proliv spills` : " (no known anomalies: synthetic defects only)"),
  );
  const rows = await detectorPoolValidation(detector, negatives, proliv, names);
  const choice = chooseScoreByRule(rows);
  const ref = (await detectorScores(detector, referenceNormals, [choice.score]))[choice.score];
  const sel = select ? (await detectorScores(detector, select, [choice.score]))[choice.score] : null;
  const threshold = checkedPoolThreshold(sel, ref);
  return { dir, metadata, ds, detector, referenceNormals, proliv, select, rows, choice, threshold };
}
