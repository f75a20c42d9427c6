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
import type * as tf from "@tensorflow/tfjs";
import { loadModel, readModelMetadata } from "./checkpoint";
import { DETECTOR_CONFIG, type DetectorConfig, readDetectorConfig } from "./config";
import { prepareWells, type PreparedWells } from "./dataset";
import {
  detectorPoolValidation,
  detectorScores,
  availableScores,
  fitDetector,
  loadDetector,
  type Detector,
  type DetectorPoolSummary,
  type DetectorScore,
} from "./detector";
import { indicesOf } from "./labels";
import { loadCached } from "./image-cache";
import { gatherImages, splitPool } from "./pool";
import {
  checkedPoolChoice,
  checkedPoolThreshold,
  chooseThresholds,
  DEFAULT_STRATEGIES,
  type CheckedThreshold,
  type StrategyChoice,
  type StrategySpec,
} from "./thresholds";
import { trainAutoencoder } from "./train";

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
      reason:
        `${pick.score} (${pick.selection.toFixed(4)}) does not beat the baseline ${baseline} ` +
        `(${base.selection.toFixed(4)}) by ${PROMOTION_MARGIN}`,
    };
  return {
    score: pick.score,
    selection: pick.selection,
    reason:
      pick === best
        ? `highest selection value ${best.selection.toFixed(4)}` +
          (base && pick.score !== baseline ? `, +${(best.selection - base.selection).toFixed(4)} over ${baseline}` : "")
        : `within ${TIE_MARGIN} of the best (${best.score} ${best.selection.toFixed(4)}) and simpler`,
  };
}

/** The data of one evaluation, at the model's input size and split: images only, no pool label is read. */
export interface EvaluationData {
  ds: PreparedWells;
  shape: [number, number, number];
  /** The validation set's held-out normals (the reference) and its proliv spills. */
  referenceNormals: Float32Array;
  proliv: Float32Array;
  /** The pool's adapt and select images (the test images without labels), or null when there are too few to split. */
  adapt: Float32Array | null;
  select: Float32Array | null;
}

/** Prepare the data a config names (its size and split): the split, the validation classes and the pool's images. */
export async function evaluationData(
  config: DetectorConfig,
  options: { data?: string; onMessage?: (text: string) => void } = {},
): Promise<EvaluationData> {
  const say = options.onMessage ?? (() => {});
  const ds = await prepareWells({
    root: options.data,
    size: { height: config.height, width: config.width, channels: config.channels },
    holdoutFraction: config.split.holdout,
    seed: config.split.seed,
  });
  return evaluationDataOf(ds, say);
}

/**
 * The evaluation data of wells already prepared (notebook 03's `prepareWells`): validation classes and pool images.
 * `{ select: false }` skips decoding the select part (fitting the parts needs only the adapt part).
 */
export async function evaluationDataOf(
  ds: PreparedWells,
  say: (text: string) => void = () => {},
  options: { select?: boolean } = {},
): Promise<EvaluationData> {
  const shape = ds.trainData.shape;
  const per = shape[0] * shape[1] * shape[2];
  const { data, labels } = ds.trainData.validation;
  const referenceNormals = gatherImages(data, per, indicesOf(labels, 0));
  const proliv = gatherImages(data, per, indicesOf(labels, 1));
  // the pool: the test images without their labels, when there are enough to split in three parts
  const pool = ds.list.test.length >= MIN_POOL ? splitPool(ds.list.test) : null;
  if (!pool)
    say(
      `no unlabelled pool (${ds.list.test.length} test images): ` +
        "validation on the held-out normals, threshold from them",
    );
  const adapt = pool ? (await loadCached(pool.adapt, ds.size)).data : null;
  const select = pool && options.select !== false ? (await loadCached(pool.select, ds.size)).data : null;
  return { ds, shape, referenceNormals, proliv, adapt, select };
}

/** The fewest test images split into a pool (adapt, select, report); fewer: no pool. */
export const MIN_POOL = 30;

/** Fit a model's reference parts on the evaluation data (notebook 03, promote, experiment): no label is read. */
export function fitWellsDetector(
  model: tf.LayersModel,
  data: EvaluationData,
  options: { trainedOnPool?: boolean; onMessage?: (text: string) => void } = {},
): Promise<Detector> {
  return fitDetector(model, data.shape, {
    train: data.ds.trainData.train,
    reference: data.referenceNormals,
    adapt: data.adapt,
    trainedOnPool: !!options.trainedOnPool,
    onMessage: options.onMessage,
    trainName: "the train part of train/",
    adaptName: "the pool's adapt part",
  });
}

export interface CheckpointEvaluation extends EvaluationData {
  dir: string;
  metadata: Record<string, unknown>;
  config: DetectorConfig;
  detector: Detector;
  /** Whether the detector's parts were read from the model folder (useStoredParts) or fitted here. */
  partsFrom: "model folder" | "fitted";
  /** The scores evaluated, in the detector's order (availableScores) unless `scores` named others. */
  scores: DetectorScore[];
  rows: DetectorPoolSummary[];
  choice: ScoreChoice;
  /** Every computed score on the reference normals and on the pool's select images (null without a pool). */
  referenceScores: Partial<Record<DetectorScore, Float32Array>>;
  selectScores: Partial<Record<DetectorScore, Float32Array>> | null;
  threshold: CheckedThreshold;
}

export interface EvaluateOptions {
  data?: string;
  onMessage?: (text: string) => void;
  /** Score only these (default: every score the detector can compute). */
  scores?: DetectorScore[];
  /** Use the reference parts saved in the model folder when it has them (notebook 04); default: fit them afresh. */
  useStoredParts?: boolean;
}

/** The whole label-free pipeline for one checkpoint folder (a run's best/, or a promoted model). */
export async function evaluateCheckpoint(dir: string, options: EvaluateOptions = {}): Promise<CheckpointEvaluation> {
  const say = options.onMessage ?? (() => {});
  const metadata = readModelMetadata(dir) as { trainedOnPool?: string };
  // the size and the split the model was trained with, from its stored config
  const config = readDetectorConfig(metadata, path.join(dir, "model.json"));
  if (config.legacy)
    say(`${dir}: saved before the config was stored; split rebuilt as ${JSON.stringify(config.split)}`);
  const data = await evaluationData(config, options);
  const stored = options.useStoredParts ? await loadDetector(dir) : null;
  const partsFrom = stored?.density ? "model folder" : "fitted";
  if (stored && !stored.density) stored.model.dispose();
  const detector = stored?.density
    ? stored
    : await fitWellsDetector(await loadModel(dir), data, { trainedOnPool: !!metadata.trainedOnPool, onMessage: say });
  const names = options.scores ?? availableScores(detector);
  const per = data.shape[0] * data.shape[1] * data.shape[2];
  const negatives = data.select ?? data.referenceNormals;
  say(
    `validation of ${names.length} scores on ${negatives.length / per} ` +
      `${data.select ? "pool select" : "held-out normal"} images` +
      (data.proliv.length
        ? ` and ${data.proliv.length / per} proliv spills`
        : " (no known anomalies: synthetic defects only)"),
  );
  const rows = await detectorPoolValidation(detector, negatives, data.proliv, names);
  const choice = chooseScoreByRule(rows);
  // one pass per set for every score: the threshold of the chosen one, the others for notebook 04's tables
  const referenceScores = await detectorScores(detector, data.referenceNormals, names);
  const selectScores = data.select ? await detectorScores(detector, data.select, names) : null;
  const threshold = checkedPoolThreshold(selectScores?.[choice.score] ?? null, referenceScores[choice.score]);
  return {
    ...data,
    dir,
    metadata,
    config,
    detector,
    partsFrom,
    scores: names,
    rows,
    choice,
    referenceScores,
    selectScores,
    threshold,
  };
}

/**
 * The model folder to analyse: the first of `candidates` holding a model.json; without one, a short run trained in
 * `quickRun` with the project's config (1,000 images, 2 epochs: notebook 03's QUICK settings), its best/ folder.
 *   const dir = await modelForAnalysis(["../models/wells-ae", "../runs/notebook/best"], "../runs/notebook04-quick")
 */
export async function modelForAnalysis(
  candidates: readonly string[],
  quickRun: string,
  options: { data?: string; onMessage?: (text: string) => void } = {},
): Promise<string> {
  const found = candidates.find((d) => fs.existsSync(path.join(d, "model.json")));
  if (found) return found;
  const best = path.join(quickRun, "best");
  if (fs.existsSync(path.join(best, "model.json"))) return best;
  const say = options.onMessage ?? (() => {});
  say(`no model at ${candidates.join(" or ")}: training a short run in ${quickRun} (notebook 03's QUICK settings)`);
  const c = DETECTOR_CONFIG;
  const size = { height: c.height, width: c.width, channels: c.channels };
  const quick = await prepareWells({ root: options.data, size, trainLimit: 1000 });
  const run = await trainAutoencoder(
    quick.trainData,
    {
      runDir: quickRun,
      epochs: 2,
      model: { filters: c.filters, blocks: c.blocks, kind: c.kind },
      metadata: { config: c },
    },
    {
      onEpoch: (r) =>
        say(`epoch ${r.epoch}: loss ${r.loss.toExponential(3)}, validation AUROC ${r.valAuroc?.toFixed(4)}`),
    },
  );
  run.model.dispose();
  return best;
}

/** Every score on the validation set, and each score's threshold choices: held-out strategies, then the pool rule. */
export interface ThresholdAnalysis {
  scores: DetectorScore[];
  /** The score the headline figures use: the one given, else the model's stored config, else the rule's choice. */
  primary: DetectorScore;
  validation: { labels: Uint8Array; scores: Record<DetectorScore, Float32Array> };
  choices: Record<DetectorScore, StrategyChoice[]>;
}

/**
 * Thresholds for every score of an evaluation (notebook 04): the held-out validation strategies (`strategies`) on
 * the validation set, and the checked pool rule ("pool5") from the evaluation's select and reference scores.
 *   const analysis = await thresholdAnalysis(ev);   analysis.choices.densityAdapted   // [p95, p99, …, pool5]
 */
export async function thresholdAnalysis(
  ev: CheckpointEvaluation,
  options: { primary?: DetectorScore | null; strategies?: readonly StrategySpec[] } = {},
): Promise<ThresholdAnalysis> {
  const scores = ev.scores;
  const stored = ev.config.score;
  const primary =
    options.primary ?? (stored && (scores as string[]).includes(stored) ? (stored as DetectorScore) : ev.choice.score);
  const { data, labels } = ev.ds.validation;
  const validation = { labels, scores: await detectorScores(ev.detector, data, scores) };
  const choices = {} as Record<DetectorScore, StrategyChoice[]>;
  for (const s of scores)
    choices[s] = [
      ...chooseThresholds(labels, validation.scores[s], { strategies: options.strategies ?? DEFAULT_STRATEGIES }),
      checkedPoolChoice(ev.selectScores?.[s] ?? null, ev.referenceScores[s]!),
    ];
  return { scores, primary, validation, choices };
}
