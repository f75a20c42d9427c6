/**
 * The test set, once: apply thresholds chosen on validation (lib/detector thresholds) unchanged to the test set, and
 * measure how well validation predicted test. Scoring is lib/detector predict's `scoreSet`; tables and the evaluation
 * file live in lib/report.
 *
 * The rule this module is built around: test labels are for the final report only. Every threshold comes from
 * `chooseThresholds` on validation (held-out normals + proliv/ spills); `evaluateOnTest` never chooses anything,
 * it only measures the thresholds it is given, plus the threshold-free test AUROC and average precision.
 *
 *   import { scoreSet, chooseThresholds, evaluateOnTest, predictedVsActual } from "../dist/lib/detector";
 *   import { confusionFrame, frameTable } from "../dist/lib/report";
 *   const val = await scoreSet(model, validation.data, [32, 48, 3], ["mse", "maxSmoothed"]);
 *   const choices = chooseThresholds(validation.labels, val.scores.mse);        // p95, p99, maxF1, maxYouden, tnr95, …
 *   const tst = await scoreSet(model, test.data, [32, 48, 3], ["mse"]);
 *   const result = evaluateOnTest(test.labels, tst.scores.mse, choices);        // final report only
 *   predictedVsActual(choices, result)            // [{ id: "p99", tnrValidation: 0.99, tnrTest: 0.985, … }, …]
 *   frameTable(confusionFrame(result.strategies[1].metrics!), { heat: true, showIndex: true })
 */
import {
  auroc,
  averagePrecision,
  checkLabelsScores,
  metricsAtThreshold,
  prCurve,
  rocCurve,
  scoreBins,
  type ThresholdMetrics,
} from "./metrics";
import type { PoolRuleName, StrategyName } from "./thresholds";
import type { StrategyChoice } from "./thresholds";
import type { DetectorScore } from "./detector";
import type { ThresholdAnalysis } from "./pipeline";
import { partIndices } from "./pool";
import type { WellItem } from "./wells";

// ---------------------------------------------------------------------------------------------------------------
// The test set, once

export interface TestResult {
  id: string;
  strategy: StrategyName | PoolRuleName;
  /** The validation-chosen threshold, applied unchanged (null when the strategy had none). */
  threshold: number | null;
  metrics: ThresholdMetrics | null;
  note?: string;
}

export interface TestEvaluation {
  positives: number;
  negatives: number;
  /** Threshold-free: how well the score ranks spills above normals. */
  auroc: number;
  averagePrecision: number;
  strategies: TestResult[];
}

/**
 * The test metrics at each validation-chosen threshold, plus test AUROC and AP. Chooses nothing. The test set must
 * hold both classes. For the final report only.
 *   evaluateOnTest(testLabels, testScores, choices).strategies.map((r) => [r.id, r.metrics?.tpr, r.metrics?.tnr])
 */
export function evaluateOnTest(
  testLabels: ArrayLike<number>,
  testScores: ArrayLike<number>,
  choices: readonly StrategyChoice[],
): TestEvaluation {
  const { positives, negatives } = checkLabelsScores(testLabels, testScores);
  if (positives === 0 || negatives === 0)
    throw new Error(
      `evaluateOnTest: the test set needs both classes, got ${positives} spills and ${negatives} normals`,
    );
  return {
    positives,
    negatives,
    auroc: auroc(testLabels, testScores),
    averagePrecision: averagePrecision(testLabels, testScores),
    strategies: choices.map((c) => {
      const r: TestResult = {
        id: c.id,
        strategy: c.strategy,
        threshold: c.threshold,
        metrics: c.threshold === null ? null : metricsAtThreshold(testLabels, testScores, c.threshold),
      };
      if (c.note !== undefined) r.note = c.note;
      return r;
    }),
  };
}

export interface PredictedVsActualRow {
  id: string;
  threshold: number | null;
  tnrValidation: number | null;
  tnrTest: number | null;
  /** Test minus validation: negative when validation promised more than test delivered. */
  tnrGap: number | null;
  tprValidation: number | null;
  tprTest: number | null;
  tprGap: number | null;
  f1Validation: number | null;
  f1Test: number | null;
}

const gap = (test: number | null, val: number | null) => (test === null || val === null ? null : test - val);

/**
 * How well validation predicted test, per strategy (matched by id): the TNR and TPR each threshold had on validation
 * against what it reached on test. proliv/ is one spill event, so validation TPR saturates near 1 and overstates test
 * TPR; percentile-of-normals thresholds, being about normals only, tend to predict test TNR well.
 *   predictedVsActual(choices, evaluateOnTest(testLabels, testScores, choices))[0].tnrGap
 */
export function predictedVsActual(
  validation: readonly StrategyChoice[],
  test: TestEvaluation | readonly TestResult[],
): PredictedVsActualRow[] {
  const results = "strategies" in test ? test.strategies : test;
  return validation.map((c) => {
    const t = results.find((r) => r.id === c.id);
    if (!t)
      throw new Error(
        `predictedVsActual: strategy "${c.id}" has no test result ` +
          `(test has ${results.map((r) => r.id).join(", ") || "none"})`,
      );
    if (t.threshold !== c.threshold)
      throw new Error(
        `predictedVsActual: strategy "${c.id}" was tested at threshold ${t.threshold}, ` +
          `but validation chose ${c.threshold}`,
      );
    const v = c.validation;
    const m = t.metrics;
    const pick = (x: ThresholdMetrics | null, k: "tnr" | "tpr" | "f1") => (x ? x[k] : null);
    return {
      id: c.id,
      threshold: c.threshold,
      tnrValidation: pick(v, "tnr"),
      tnrTest: pick(m, "tnr"),
      tnrGap: gap(pick(m, "tnr"), pick(v, "tnr")),
      tprValidation: pick(v, "tpr"),
      tprTest: pick(m, "tpr"),
      tprGap: gap(pick(m, "tpr"), pick(v, "tpr")),
      f1Validation: pick(v, "f1"),
      f1Test: pick(m, "f1"),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Errors to look at

/**
 * The test (or validation) items the threshold gets wrong, worst first: false positives by descending score (the
 * normals that look most like spills), false negatives by ascending score (the spills the model found most normal).
 *   misclassified(labels, scores, 0.004, 12).falsePositives   // up to 12 indices
 */
export function misclassified(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  limit = Infinity,
): { falsePositives: number[]; falseNegatives: number[] } {
  checkLabelsScores(labels, scores);
  if (Number.isNaN(threshold)) throw new Error("misclassified: threshold is NaN");
  const fp: number[] = [];
  const fn: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const flagged = scores[i] > threshold;
    if (flagged && labels[i] === 0) fp.push(i);
    else if (!flagged && labels[i] === 1) fn.push(i);
  }
  fp.sort((a, b) => scores[b] - scores[a] || a - b);
  fn.sort((a, b) => scores[a] - scores[b] || a - b);
  return { falsePositives: fp.slice(0, limit), falseNegatives: fn.slice(0, limit) };
}

// ---------------------------------------------------------------------------------------------------------------
// Chart data and the evaluation file

/**
 * Thresholds at evenly spaced quantiles of the scores (min to max), for metrics-against-threshold charts: anomaly
 * scores are skewed (a few spills score far above the normals), and a linear grid would spend most points where no
 * score lies. `quantileGrid(scores, 200)` → up to 200 ascending distinct thresholds.
 */
export function quantileGrid(scores: ArrayLike<number>, count = 200): number[] {
  if (scores.length === 0) throw new Error("quantileGrid: no scores");
  if (!(Number.isInteger(count) && count >= 2))
    throw new Error(`quantileGrid: count must be an integer ≥ 2, got ${count}`);
  const s = Float64Array.from(scores).sort();
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const v = s[Math.round((k * (s.length - 1)) / (count - 1))];
    if (out.length === 0 || v !== out[out.length - 1]) out.push(v);
  }
  return out;
}

/**
 * At most `maxPoints` points of a curve given as equally long arrays (fpr, tpr, thresholds…), keeping the first and
 * the last and evenly spaced ones between: enough for a README figure, small in JSON. NaN and ±Infinity (the ROC
 * curve ends at threshold −Infinity, "flag everything") become an explicit null, as JSON has no such numbers.
 *   downsampleCurve({ fpr: roc.fpr, tpr: roc.tpr, thresholds: roc.thresholds }, 200)   // same keys, ≤ 200 points each
 */
export function downsampleCurve<K extends string>(
  curve: Record<K, number[]>,
  maxPoints = 200,
): Record<K, (number | null)[]> {
  const keys = Object.keys(curve) as K[];
  if (keys.length === 0) throw new Error("downsampleCurve: no arrays");
  const n = curve[keys[0]].length;
  if (keys.some((k) => curve[k].length !== n))
    throw new Error(
      `downsampleCurve: arrays differ in length (${keys.map((k) => `${k} ${curve[k].length}`).join(", ")})`,
    );
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2))
    throw new Error(`downsampleCurve: maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  const idx =
    n <= maxPoints
      ? [...Array(n).keys()]
      : Array.from({ length: maxPoints }, (_, k) => Math.round((k * (n - 1)) / (maxPoints - 1)));
  const out = {} as Record<K, (number | null)[]>;
  for (const k of keys) out[k] = idx.map((i) => (Number.isFinite(curve[k][i]) ? curve[k][i] : null));
  return out;
}

/**
 * Per-class counts over `bins` shared bins: `histogramData(labels, scores, 50)` → { edges (bins + 1), normal, spill }.
 */
export function histogramData(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  bins = 50,
): { edges: number[]; normal: number[]; spill: number[] } {
  checkLabelsScores(labels, scores);
  const { min, width } = scoreBins(scores, bins, "histogramData");
  const edges = Array.from({ length: bins + 1 }, (_, k) => min + k * width);
  const normal = new Array<number>(bins).fill(0);
  const spill = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.floor((scores[i] - min) / width)); // the maximum falls in the last bin
    (labels[i] === 1 ? spill : normal)[b]++;
  }
  return { edges, normal, spill };
}

export type RocPoints = Record<"fpr" | "tpr" | "thresholds", (number | null)[]>;
export type PrPoints = Record<"recall" | "precision" | "thresholds", (number | null)[]>;

/** What `evaluation.json` holds for one score: validation choices and curves, test results and curves. */
export interface ScoreEvaluation {
  score: string;
  validation: {
    auroc: number;
    averagePrecision: number;
    choices: StrategyChoice[];
    roc: RocPoints;
    pr: PrPoints;
    histogram: ReturnType<typeof histogramData>;
  };
  test: TestEvaluation & {
    roc: RocPoints;
    pr: PrPoints;
    histogram: ReturnType<typeof histogramData>;
  };
  predictedVsActual: PredictedVsActualRow[];
}

/** Curves and histograms of labels + scores, downsampled for the JSON file. */
function curves(labels: ArrayLike<number>, scores: ArrayLike<number>, maxPoints: number, bins: number) {
  const roc = rocCurve(labels, scores);
  const pr = prCurve(labels, scores);
  return {
    roc: downsampleCurve({ fpr: roc.fpr, tpr: roc.tpr, thresholds: roc.thresholds }, maxPoints),
    pr: downsampleCurve({ recall: pr.recall, precision: pr.precision, thresholds: pr.thresholds }, maxPoints),
    histogram: histogramData(labels, scores, bins),
  };
}

/**
 * Everything about one score for the report, from validation and test labels + scores and the validation choices:
 *   scoreEvaluation("mse", val.labels, valScores, choices, test.labels, testScores)
 */
export function scoreEvaluation(
  score: string,
  validationLabels: ArrayLike<number>,
  validationScores: ArrayLike<number>,
  choices: StrategyChoice[],
  testLabels: ArrayLike<number>,
  testScores: ArrayLike<number>,
  options: { maxPoints?: number; bins?: number } = {},
): ScoreEvaluation {
  const maxPoints = options.maxPoints ?? 200;
  const bins = options.bins ?? 50;
  const test = evaluateOnTest(testLabels, testScores, choices);
  return {
    score,
    validation: {
      auroc: auroc(validationLabels, validationScores),
      averagePrecision: averagePrecision(validationLabels, validationScores),
      choices,
      ...curves(validationLabels, validationScores, maxPoints, bins),
    },
    test: { ...test, ...curves(testLabels, testScores, maxPoints, bins) },
    predictedVsActual: predictedVsActual(choices, test),
  };
}

/** The final test evaluation of notebook 04: every score on the report part of the pool and on the whole test set. */
export interface TestAnalysis {
  /** Indices (into the test set) of the report part, and its labels and scores. */
  report: { indices: number[]; labels: number[]; scores: Record<DetectorScore, Float32Array> };
  whole: { labels: Uint8Array; scores: Record<DetectorScore, Float32Array> };
  /** Per score, the thresholds chosen on validation measured on the report part, and on the whole test set. */
  evaluations: ScoreEvaluation[];
  wholeEvaluations: ScoreEvaluation[];
}

/**
 * Read the test labels — once, for the final report — and measure every score and every threshold chosen before
 * (`analysis`, from lib/detector pipeline's thresholdAnalysis) on the report part and on the whole test set.
 *   const t = testAnalysis(analysis, test.labels, await detectorScores(detector, test.data, analysis.scores), items)
 */
export function testAnalysis(
  analysis: ThresholdAnalysis,
  testLabels: Uint8Array,
  testScores: Record<DetectorScore, Float32Array>,
  testItems: WellItem[],
): TestAnalysis {
  const { scores, validation, choices } = analysis;
  const indices = partIndices(testItems, "report");
  const labels = indices.map((i) => testLabels[i]);
  const reportScores = {} as Record<DetectorScore, Float32Array>;
  for (const s of scores) reportScores[s] = Float32Array.from(indices, (i) => testScores[s][i]);
  const evaluate = (s: DetectorScore, l: ArrayLike<number>, t: ArrayLike<number>) =>
    scoreEvaluation(s, validation.labels, validation.scores[s], choices[s], l, t);
  return {
    report: { indices, labels, scores: reportScores },
    whole: { labels: testLabels, scores: testScores },
    evaluations: scores.map((s) => evaluate(s, labels, reportScores[s])),
    wholeEvaluations: scores.map((s) => evaluate(s, testLabels, testScores[s])),
  };
}
