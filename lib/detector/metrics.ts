/**
 * Detection metrics from labels and anomaly scores: confusion matrix, rates, ROC / PR curves, AUROC, average precision.
 *
 * Conventions, used everywhere in this project (thresholds.ts too):
 *   - labels are 0 (normal) or 1 (spill, the positive class); scores are finite numbers, higher = more anomalous.
 *   - an item is predicted positive when `score > threshold` (strictly greater). So threshold = max score flags
 *     nothing, threshold = -Infinity flags everything.
 *   - precision with no predicted positives (tp + fp = 0) is 1: no alarm was false. The PR curve therefore starts at
 *     (recall 0, precision 1), as in scikit-learn, and average precision does not depend on that point.
 *   - a rate whose denominator is empty is NaN: TPR with no positives, TNR / FPR with no negatives.
 *     F1 = 2tp / (2tp + fp + fn) (the harmonic mean of precision and recall, 0 when tp = 0) is NaN only when there
 *     are no positives and none is predicted.
 *
 * Curves sweep the sorted scores once (O(n log n)); tied scores move together, as one step of the curve.
 *
 *   import { auroc, averagePrecision, metricsAtThreshold, rocCurve } from "../dist/lib/detector";
 *   auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])              // 0.75
 *   averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])   // 0.8333…
 *   metricsAtThreshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.3).f1   // 0.8
 */

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Everything about one threshold, flat so that a list of them is a table (danfo, display.table) or chart columns. */
export interface ThresholdMetrics extends ConfusionMatrix {
  threshold: number;
  /** Recall, sensitivity: tp / (tp + fn). */
  tpr: number;
  /** Specificity: tn / (tn + fp). */
  tnr: number;
  /** fp / (fp + tn) = 1 - tnr. */
  fpr: number;
  /** tp / (tp + fp); 1 when nothing is predicted positive. */
  precision: number;
  f1: number;
  accuracy: number;
  balancedAccuracy: number;
  /** Youden's J = tpr + tnr - 1. */
  youdenJ: number;
}

export interface RocCurve {
  /** Thresholds from the largest score down to -Infinity; point i counts the items with score > thresholds[i]. */
  thresholds: number[];
  fpr: number[];
  tpr: number[];
}

export interface PrCurve {
  /** Same thresholds as the ROC curve: largest score first, -Infinity last. */
  thresholds: number[];
  recall: number[];
  precision: number[];
}

/** 0/1 predictions for every score: `predict([0.1, 0.9], 0.5)` → Uint8Array [0, 1]. */
export function predict(scores: ArrayLike<number>, threshold: number): Uint8Array {
  checkThreshold(threshold);
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] > threshold ? 1 : 0;
  return out;
}

/**
 * Checks labels and scores and counts the classes. Errors name the problem and the index:
 * empty input, length mismatch, a label other than 0/1, a score that is NaN or infinite.
 */
export function checkLabelsScores(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): { positives: number; negatives: number } {
  if (labels.length !== scores.length) {
    throw new Error(`labels and scores differ in length: ${labels.length} labels, ${scores.length} scores`);
  }
  if (labels.length === 0) throw new Error("labels and scores are empty");
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y === 1) positives++;
    else if (y !== 0) throw new Error(`labels[${i}] is ${y}; labels must be 0 (normal) or 1 (spill)`);
    if (!Number.isFinite(scores[i])) throw new Error(`scores[${i}] is ${scores[i]}; scores must be finite numbers`);
  }
  return { positives, negatives: labels.length - positives };
}

/**
 * `bins` equal bins over the whole range of the scores, for per-class histograms whose classes share them:
 * { min, max, width }, bin k being [min + k · width, min + (k + 1) · width) and the maximum in the last bin; width 1
 * when every score is equal. `where` names the caller in errors: `scoreBins(scores, 50, "histogramData")`.
 */
export function scoreBins(
  scores: ArrayLike<number>,
  bins: number,
  where: string,
): { min: number; max: number; width: number } {
  if (!(Number.isInteger(bins) && bins > 0)) throw new Error(`${where}: bins must be a positive integer, got ${bins}`);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    min = Math.min(min, scores[i]);
    max = Math.max(max, scores[i]);
  }
  return { min, max, width: max > min ? (max - min) / bins : 1 };
}

function checkThreshold(threshold: number): void {
  if (typeof threshold !== "number" || Number.isNaN(threshold))
    throw new Error(`threshold is ${threshold}; it must be a number`);
}

/** Counts at one threshold: `confusionMatrix([0, 1], [0.2, 0.7], 0.5)` → { tp: 1, fp: 0, tn: 1, fn: 0 }. */
export function confusionMatrix(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
): ConfusionMatrix {
  checkLabelsScores(labels, scores);
  checkThreshold(threshold);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const positive = labels[i] === 1;
    if (scores[i] > threshold) {
      if (positive) tp++;
      else fp++;
    } else if (positive) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/** Recall: tp / (tp + fn); NaN without positives. */
export const tpr = (m: ConfusionMatrix): number => m.tp / (m.tp + m.fn);
/** Specificity: tn / (tn + fp); NaN without negatives. */
export const tnr = (m: ConfusionMatrix): number => m.tn / (m.tn + m.fp);
/** False-positive rate: fp / (fp + tn); NaN without negatives. */
export const fpr = (m: ConfusionMatrix): number => m.fp / (m.fp + m.tn);
/** tp / (tp + fp), and 1 when nothing is predicted positive (see the module notes). */
export const precision = (m: ConfusionMatrix): number => (m.tp + m.fp === 0 ? 1 : m.tp / (m.tp + m.fp));
/** 2tp / (2tp + fp + fn): the harmonic mean of precision and recall, 0 when tp = 0. */
export const f1 = (m: ConfusionMatrix): number => (2 * m.tp) / (2 * m.tp + m.fp + m.fn);
export const accuracy = (m: ConfusionMatrix): number => (m.tp + m.tn) / (m.tp + m.fp + m.tn + m.fn);
/** Mean of TPR and TNR: accuracy that ignores how rare spills are. */
export const balancedAccuracy = (m: ConfusionMatrix): number => (tpr(m) + tnr(m)) / 2;
/** Youden's J = TPR + TNR - 1: 0 for a coin flip, 1 for a perfect split. */
export const youdenJ = (m: ConfusionMatrix): number => tpr(m) + tnr(m) - 1;

/** Every metric for a confusion matrix obtained at `threshold`. */
function metricsFromConfusion(threshold: number, m: ConfusionMatrix): ThresholdMetrics {
  return {
    threshold,
    tp: m.tp,
    fp: m.fp,
    tn: m.tn,
    fn: m.fn,
    tpr: tpr(m),
    tnr: tnr(m),
    fpr: fpr(m),
    precision: precision(m),
    f1: f1(m),
    accuracy: accuracy(m),
    balancedAccuracy: balancedAccuracy(m),
    youdenJ: youdenJ(m),
  };
}

/** Every metric at one threshold: `metricsAtThreshold(labels, scores, 0.02).tpr`. */
export function metricsAtThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
): ThresholdMetrics {
  return metricsFromConfusion(threshold, confusionMatrix(labels, scores, threshold));
}

/** Ascending copies of the positives' and the negatives' scores (checked). */
function sortedByClass(labels: ArrayLike<number>, scores: ArrayLike<number>): { pos: Float64Array; neg: Float64Array } {
  const { positives, negatives } = checkLabelsScores(labels, scores);
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  let p = 0;
  let q = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[p++] = scores[i];
    else neg[q++] = scores[i];
  }
  pos.sort(); // typed-array sort is numeric
  neg.sort();
  return { pos, neg };
}

/** Number of entries of an ascending array that are > t (binary search). */
function countAbove(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] > t) hi = mid;
    else lo = mid + 1;
  }
  return sorted.length - lo;
}

/**
 * The counts behind every curve: the distinct scores in decreasing order, then -Infinity, and for each threshold
 * tp[i] / fp[i] = how many positives / negatives score > thresholds[i]. Point 0 flags nothing, the last flags
 * everything.
 *
 *   cumulativeCounts([0, 1, 1], [0.2, 0.2, 0.9])  // thresholds [0.9, 0.2, -Infinity], tp [0, 1, 2], fp [0, 0, 1]
 */
export function cumulativeCounts(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): { thresholds: number[]; tp: number[]; fp: number[]; positives: number; negatives: number } {
  const { pos, neg } = sortedByClass(labels, scores);
  const thresholds: number[] = [];
  const tp: number[] = [];
  const fp: number[] = [];
  let i = pos.length - 1;
  let j = neg.length - 1;
  let t = 0;
  let f = 0;
  while (i >= 0 || j >= 0) {
    const v = Math.max(i >= 0 ? pos[i] : -Infinity, j >= 0 ? neg[j] : -Infinity);
    thresholds.push(v);
    tp.push(t);
    fp.push(f);
    for (; i >= 0 && pos[i] === v; i--) t++;
    for (; j >= 0 && neg[j] === v; j--) f++;
  }
  thresholds.push(-Infinity);
  tp.push(t);
  fp.push(f);
  return { thresholds, tp, fp, positives: pos.length, negatives: neg.length };
}

function needBothClasses(what: string, positives: number, negatives: number): void {
  if (positives === 0 || negatives === 0) {
    throw new Error(
      `${what} needs both classes, but the ${positives + negatives} items hold ${positives} positives (label 1) ` +
        `and ${negatives} negatives (label 0)`,
    );
  }
}

/**
 * ROC curve from (0, 0) to (1, 1), one point per distinct score: `rocCurve(labels, scores).fpr`. Needs both classes.
 */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  const c = cumulativeCounts(labels, scores);
  needBothClasses("ROC curve", c.positives, c.negatives);
  return {
    thresholds: c.thresholds,
    fpr: c.fp.map((f) => f / c.negatives),
    tpr: c.tp.map((t) => t / c.positives),
  };
}

/**
 * Area under the ROC curve by the trapezoid rule. Ties make diagonal steps, so this equals the Mann–Whitney probability
 * P(score_pos > score_neg) + 0.5 · P(score_pos = score_neg). Needs both classes.
 */
export function auroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const c = cumulativeCounts(labels, scores);
  needBothClasses("AUROC", c.positives, c.negatives);
  // Twice the area in units of (1/negatives)·(1/positives): integer arithmetic, exact for any realistic size.
  let twiceArea = 0;
  for (let i = 1; i < c.tp.length; i++) twiceArea += (c.fp[i] - c.fp[i - 1]) * (c.tp[i] + c.tp[i - 1]);
  return twiceArea / (2 * c.positives * c.negatives);
}

/**
 * Precision–recall curve, one point per distinct score, starting at (recall 0, precision 1). Needs at least one
 * positive.
 */
export function prCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): PrCurve {
  const c = cumulativeCounts(labels, scores);
  if (c.positives === 0)
    throw new Error(`PR curve needs at least one positive (label 1); all ${c.negatives} items are 0`);
  return {
    thresholds: c.thresholds,
    recall: c.tp.map((t) => t / c.positives),
    precision: c.tp.map((t, i) => (t + c.fp[i] === 0 ? 1 : t / (t + c.fp[i]))),
  };
}

/**
 * Average precision, scikit-learn's step-wise definition AP = Σ (R_n − R_{n−1}) · P_n over the PR curve's points
 * (no interpolation). Needs at least one positive; with no negatives it is 1.
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { recall, precision: p } = prCurve(labels, scores);
  let ap = 0;
  for (let i = 1; i < recall.length; i++) ap += (recall[i] - recall[i - 1]) * p[i];
  return ap;
}

/**
 * Metrics at many thresholds (for charts of F1 / TPR / FPR against the threshold), O((n + m) log n):
 *   metricsVsThreshold(labels, scores, [0.01, 0.02, 0.03]).map((m) => m.f1)
 */
export function metricsVsThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  thresholds: ArrayLike<number>,
): ThresholdMetrics[] {
  const { pos, neg } = sortedByClass(labels, scores);
  const out: ThresholdMetrics[] = [];
  for (let k = 0; k < thresholds.length; k++) {
    const t = thresholds[k];
    checkThreshold(t);
    const tp = countAbove(pos, t);
    const fp = countAbove(neg, t);
    out.push(metricsFromConfusion(t, { tp, fp, tn: neg.length - fp, fn: pos.length - tp }));
  }
  return out;
}
