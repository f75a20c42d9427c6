/**
 * Threshold strategies: pick the spill threshold on a validation set (labels + scores) only, then apply it unchanged
 * to the test set. The rule is the one of lib/metrics: predict spill when `score > threshold`.
 *
 *   percentile  the q-th percentile of the normal (label 0) scores, q = 99 by default (needs normals only)
 *   maxF1       the threshold with the best F1 (needs spills)
 *   maxYouden   the threshold with the best Youden J = TPR + TNR − 1 (needs both classes)
 *   targetTnr   the smallest threshold whose validation TNR ≥ t (t = 0.99 by default; needs normals)
 *   targetTpr   the largest threshold whose validation TPR ≥ t (t = 0.95 by default; needs spills)
 *
 * Candidates. Every threshold between two consecutive distinct validation scores flags the same items, so the search
 * strategies look only at the midpoints between consecutive distinct sorted scores, plus one candidate above the
 * maximum (flags nothing) and one below the minimum (flags everything), each half the nearest gap away. A midpoint
 * keeps the largest possible margin to the validation points on both sides, so the choice does not hinge on a test
 * score that lands exactly on a validation score. Ties in the objective go to the highest threshold (fewest alarms).
 * The percentile strategy is not snapped to a midpoint: it is a property of the normal scores, not a split.
 *
 * Percentile interpolation: linear between order statistics, like numpy's default ("linear", R type 7): with the n
 * normal scores sorted ascending, h = (n − 1) · q / 100 and the value is s[⌊h⌋] + (h − ⌊h⌋) · (s[⌊h⌋ + 1] − s[⌊h⌋]).
 *
 * Degenerate validation sets: a strategy that needs a class the set lacks throws an error saying so; when all scores
 * are equal no threshold separates anything, and every strategy returns that score (which flags nothing) with a note.
 *
 *   import { chooseThreshold, chooseThresholds } from "../dist/lib/detector";
 *   chooseThreshold("maxF1", valLabels, valScores).threshold
 *   chooseThreshold("targetTnr", valLabels, valScores, { targetTnr: 0.995 })
 *   chooseThresholds(valLabels, valScores).map((c) => [c.id, c.threshold, c.validation?.f1])
 */
import { errorText } from "../tf/worker-threads";
import { indicesOf } from "./labels";
import { checkLabelsScores, cumulativeCounts, metricsAtThreshold, type ThresholdMetrics } from "./metrics";

export type StrategyName = "percentile" | "maxF1" | "maxYouden" | "targetTnr" | "targetTpr";

export const STRATEGY_NAMES: readonly StrategyName[] = ["percentile", "maxF1", "maxYouden", "targetTnr", "targetTpr"];

/**
 * The rules that read no label, only unlabelled deployment scores (and, for the check, reference normals):
 *   poolShare    flag the top `poolShare` of the unlabelled pool's scores (`poolChoice`, `deploymentThreshold`)
 *   checkedPool  poolShare 5 %, unless the pool looks more anomalous than that; then the reference normals' 99th
 *                percentile (`checkedPoolChoice`, `checkedPoolThreshold`; experiments/PROTOCOL-3.md)
 */
export type PoolRuleName = "poolShare" | "checkedPool";

/** The prior of experiments/PROTOCOL-2.md: spills are at most this share of wells, so the pool's top 5 % is flagged. */
const POOL_SPILL_SHARE = 0.05;

/** Every threshold rule by name: the labelled strategies and the pool rules. */
export type ThresholdRuleName = StrategyName | PoolRuleName;
export const THRESHOLD_RULES: readonly ThresholdRuleName[] = [...STRATEGY_NAMES, "poolShare", "checkedPool"];

export interface ThresholdOptions {
  /** For "percentile": which percentile of the normal scores, in [0, 100]. Default 99. */
  percentile?: number;
  /** For "targetTnr": the specificity to reach on validation, in [0, 1]. Default 0.99. */
  targetTnr?: number;
  /** For "targetTpr": the recall to reach on validation, in [0, 1]. Default 0.95. */
  targetTpr?: number;
  /** For the pool rules: the share of the unlabelled pool flagged, in (0, 1). */
  poolShare?: number;
}

export interface ThresholdChoice {
  strategy: StrategyName;
  threshold: number;
  /** Every metric of the chosen threshold on the validation set it was chosen on. */
  validation: ThresholdMetrics;
  /** Set when the choice is degenerate (e.g. all scores equal). */
  note?: string;
}

const DEFAULT_OPTIONS: Required<ThresholdOptions> = {
  percentile: 99,
  targetTnr: 0.99,
  targetTpr: 0.95,
  poolShare: POOL_SPILL_SHARE,
};

/** The q-th percentile (q in [0, 100]) with linear interpolation: `percentile([1, 2, 3, 4], 50)` → 2.5. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile must be in [0, 100], got ${q}`);
  if (values.length === 0) throw new Error("percentile of an empty list");
  const s = Float64Array.from(values).sort();
  const h = ((s.length - 1) * q) / 100;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

interface Candidates {
  thresholds: number[];
  tp: number[];
  fp: number[];
  positives: number;
  negatives: number;
}

/**
 * The candidate thresholds with the counts they give: candidate i flags the items of the i highest distinct scores
 * (i = 0: nothing; last: everything). Exported for charts and tests.
 *
 *   candidateThresholds([0, 1, 1], [0.25, 0.5, 1]).thresholds  // [1.25, 0.75, 0.375, 0.125]
 */
export function candidateThresholds(labels: ArrayLike<number>, scores: ArrayLike<number>): Candidates {
  // cumulativeCounts gives the distinct scores d0 > d1 > … > d(k−1), then −∞; entry i counts the scores > entry i,
  // which is what any threshold strictly between d(i) and d(i−1) flags.
  const c = cumulativeCounts(labels, scores);
  const d = c.thresholds;
  const k = d.length - 1;
  const thresholds = new Array<number>(k + 1);
  if (k === 1) {
    thresholds[0] = d[0];
    thresholds[1] = -Infinity;
  } else {
    thresholds[0] = above(d[0], d[0] + (d[0] - d[1]) / 2);
    for (let i = 1; i < k; i++) thresholds[i] = between(d[i], d[i - 1]);
    const below = d[k - 1] - (d[k - 2] - d[k - 1]) / 2;
    thresholds[k] = below < d[k - 1] ? below : -Infinity;
  }
  return { thresholds, tp: c.tp, fp: c.fp, positives: c.positives, negatives: c.negatives };
}

/** Midpoint of lo < hi; if rounding puts it on an end, lo itself (which flags exactly the items above lo). */
function between(lo: number, hi: number): number {
  const m = lo / 2 + hi / 2;
  return m > lo && m < hi ? m : lo;
}

/** A threshold above the maximum; the maximum itself when the sum overflows or rounds back. */
function above(max: number, t: number): number {
  return t > max && Number.isFinite(t) ? t : max;
}

function requireClass(strategy: StrategyName, have: number, label: 0 | 1, why: string): void {
  if (have > 0) return;
  const name = label === 1 ? "positives (spills, label 1)" : "negatives (normals, label 0)";
  throw new Error(`threshold strategy "${strategy}" is impossible: the validation set has no ${name}; ${why}`);
}

function result(
  strategy: StrategyName,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  note?: string,
): ThresholdChoice {
  const choice: ThresholdChoice = { strategy, threshold, validation: metricsAtThreshold(labels, scores, threshold) };
  if (note !== undefined) choice.note = note;
  return choice;
}

/** When every validation score is equal: that score, with a note. Otherwise null. */
function allEqual(
  strategy: StrategyName,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): ThresholdChoice | null {
  const first = scores[0];
  for (let i = 1; i < scores.length; i++) if (scores[i] !== first) return null;
  const none = "no threshold separates them";
  const note = `all ${scores.length} validation scores equal ${first}: ${none}; ${first} flags nothing`;
  return result(strategy, labels, scores, first, note);
}

/** Pick the candidate with the largest objective (first = highest threshold on ties). */
function argmaxCandidate(c: Candidates, objective: (tp: number, fp: number) => number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < c.thresholds.length; i++) {
    const v = objective(c.tp[i], c.fp[i]);
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return c.thresholds[best];
}

/** A target rate: in [0, 1], both ends included (scores' checkPositiveFraction, a share of pixels, excludes 0). */
function checkUnitInterval(name: string, t: number): void {
  if (!(t >= 0 && t <= 1)) throw new Error(`${name} must be in [0, 1], got ${t}`);
}

/** The q-th percentile of the normals' scores: `percentileThreshold(labels, scores, 99)`. */
export function percentileThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  q = DEFAULT_OPTIONS.percentile,
): ThresholdChoice {
  const { negatives } = checkLabelsScores(labels, scores);
  requireClass("percentile", negatives, 0, "it is a percentile of the normal scores");
  const equal = allEqual("percentile", labels, scores);
  if (equal) return equal;
  const normals = indicesOf(labels, 0).map((i) => scores[i]);
  return result("percentile", labels, scores, percentile(normals, q));
}

/** The threshold with the best validation F1: `maxF1Threshold(labels, scores)`. */
export function maxF1Threshold(labels: ArrayLike<number>, scores: ArrayLike<number>): ThresholdChoice {
  const { positives } = checkLabelsScores(labels, scores);
  requireClass("maxF1", positives, 1, "F1 needs spills to find");
  const equal = allEqual("maxF1", labels, scores);
  if (equal) return equal;
  const c = candidateThresholds(labels, scores);
  // F1 = 2tp / (2tp + fp + fn) with fn = positives − tp
  return result(
    "maxF1",
    labels,
    scores,
    argmaxCandidate(c, (tp, fp) => (2 * tp) / (tp + fp + c.positives)),
  );
}

/** The threshold with the best validation Youden J = TPR + TNR − 1: `maxYoudenThreshold(labels, scores)`. */
export function maxYoudenThreshold(labels: ArrayLike<number>, scores: ArrayLike<number>): ThresholdChoice {
  const { positives, negatives } = checkLabelsScores(labels, scores);
  requireClass("maxYouden", positives, 1, "Youden's J needs a true-positive rate");
  requireClass("maxYouden", negatives, 0, "Youden's J needs a true-negative rate");
  const equal = allEqual("maxYouden", labels, scores);
  if (equal) return equal;
  const c = candidateThresholds(labels, scores);
  return result(
    "maxYouden",
    labels,
    scores,
    argmaxCandidate(c, (tp, fp) => tp / c.positives - fp / c.negatives),
  );
}

/**
 * The smallest threshold whose validation TNR ≥ t (at most a fraction 1 − t of normals flagged):
 * `targetTnrThreshold(labels, scores, 0.99)`.
 */
export function targetTnrThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  t = DEFAULT_OPTIONS.targetTnr,
): ThresholdChoice {
  checkUnitInterval("targetTnr", t);
  const { negatives } = checkLabelsScores(labels, scores);
  requireClass("targetTnr", negatives, 0, "a true-negative rate needs normals");
  const equal = allEqual("targetTnr", labels, scores);
  if (equal) return equal;
  const c = candidateThresholds(labels, scores);
  // TNR falls as the threshold falls (index grows): take the last candidate that still reaches t.
  // Candidate 0 has TNR 1.
  let i = 0;
  while (i + 1 < c.thresholds.length && (c.negatives - c.fp[i + 1]) / c.negatives >= t) i++;
  return result("targetTnr", labels, scores, c.thresholds[i]);
}

/**
 * The largest threshold whose validation TPR ≥ t (finds at least a fraction t of spills):
 * `targetTprThreshold(labels, scores, 0.95)`.
 */
export function targetTprThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  t = DEFAULT_OPTIONS.targetTpr,
): ThresholdChoice {
  checkUnitInterval("targetTpr", t);
  const { positives } = checkLabelsScores(labels, scores);
  requireClass("targetTpr", positives, 1, "a true-positive rate needs spills");
  const equal = allEqual("targetTpr", labels, scores);
  if (equal) return equal;
  const c = candidateThresholds(labels, scores);
  // TPR grows as the threshold falls: take the first candidate that reaches t. The last candidate has TPR 1.
  let i = 0;
  while (c.tp[i] / c.positives < t) i++;
  return result("targetTpr", labels, scores, c.thresholds[i]);
}

/** Dispatch by name: `chooseThreshold("percentile", labels, scores, { percentile: 99.5 })`. */
export function chooseThreshold(
  strategy: StrategyName,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: ThresholdOptions = {},
): ThresholdChoice {
  const o = { ...DEFAULT_OPTIONS, ...options };
  switch (strategy) {
    case "percentile":
      return percentileThreshold(labels, scores, o.percentile);
    case "maxF1":
      return maxF1Threshold(labels, scores);
    case "maxYouden":
      return maxYoudenThreshold(labels, scores);
    case "targetTnr":
      return targetTnrThreshold(labels, scores, o.targetTnr);
    case "targetTpr":
      return targetTprThreshold(labels, scores, o.targetTpr);
    default:
      throw new Error(`unknown threshold strategy "${String(strategy)}"; choose one of ${STRATEGY_NAMES.join(", ")}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Choosing thresholds on validation

/** One way to pick a threshold: a lib/thresholds strategy with its options, under a short id ("p99"). */
export interface StrategySpec {
  id: string;
  strategy: StrategyName;
  options?: ThresholdOptions;
  /** What it means, for tables. */
  label: string;
}

export const DEFAULT_STRATEGIES: readonly StrategySpec[] = [
  { id: "p95", strategy: "percentile", options: { percentile: 95 }, label: "95th percentile of validation normals" },
  { id: "p99", strategy: "percentile", options: { percentile: 99 }, label: "99th percentile of validation normals" },
  { id: "maxF1", strategy: "maxF1", label: "best validation F1" },
  { id: "maxYouden", strategy: "maxYouden", label: "best validation Youden J" },
  {
    id: "tnr95",
    strategy: "targetTnr",
    options: { targetTnr: 0.95 },
    label: "smallest threshold with validation TNR ≥ 0.95",
  },
  {
    id: "tnr99",
    strategy: "targetTnr",
    options: { targetTnr: 0.99 },
    label: "smallest threshold with validation TNR ≥ 0.99",
  },
  {
    id: "tpr95",
    strategy: "targetTpr",
    options: { targetTpr: 0.95 },
    label: "largest threshold with validation TPR ≥ 0.95",
  },
];

/**
 * A strategy's choice on validation; `threshold` and `validation` are null when the strategy could not run (see
 * note).
 */
export interface StrategyChoice {
  id: string;
  strategy: StrategyName | PoolRuleName;
  label: string;
  options: ThresholdOptions;
  threshold: number | null;
  validation: ThresholdMetrics | null;
  note?: string;
}

/**
 * Every strategy on the validation set. Bad input (length mismatch, a label other than 0/1, a non-finite score) throws;
 * a strategy that cannot run on this set (e.g. maxF1 without spills) becomes a choice with threshold null and its error
 * as the note, so that one impossible strategy does not hide the others.
 *   chooseThresholds(valLabels, valScores).map((c) => [c.id, c.threshold])
 *   const p995 = { id: "p99.5", strategy: "percentile", options: { percentile: 99.5 }, label: "…" };
 *   chooseThresholds(valLabels, valScores, { strategies: [p995] })
 */
export function chooseThresholds(
  validationLabels: ArrayLike<number>,
  validationScores: ArrayLike<number>,
  options: { strategies?: readonly StrategySpec[] } = {},
): StrategyChoice[] {
  checkLabelsScores(validationLabels, validationScores);
  const specs = options.strategies ?? DEFAULT_STRATEGIES;
  if (specs.length === 0) throw new Error("chooseThresholds: no strategies given");
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.id)) throw new Error(`chooseThresholds: strategy id "${s.id}" is used twice`);
    seen.add(s.id);
  }
  return specs.map((spec) => {
    const base = { id: spec.id, strategy: spec.strategy, label: spec.label, options: { ...spec.options } };
    try {
      const c = chooseThreshold(spec.strategy, validationLabels, validationScores, spec.options);
      const choice: StrategyChoice = { ...base, threshold: c.threshold, validation: c.validation };
      if (c.note !== undefined) choice.note = c.note;
      return choice;
    } catch (e) {
      return { ...base, threshold: null, validation: null, note: errorText(e) };
    }
  });
}

/**
 * The threshold of experiments/PROTOCOL-2.md as a strategy choice: flag the top `share` of the unlabelled pool's
 * scores (no label read, so no validation metrics). Append it to `chooseThresholds`' list to report it beside the
 * others:
 *   [...chooseThresholds(valLabels, valScores), poolChoice(selectScores, 0.05)]   // id "pool5"
 */
export function poolChoice(unlabelledScores: ArrayLike<number>, share: number): StrategyChoice {
  return {
    id: `pool${+(share * 100).toFixed(2)}`,
    strategy: "poolShare",
    label: `top ${+(share * 100).toFixed(2)} % of the unlabelled pool's select part`,
    options: { poolShare: share },
    threshold: deploymentThreshold(unlabelledScores, share),
    validation: null,
  };
}

/**
 * The primary threshold of experiments/PROTOCOL-3.md as a strategy choice (id "pool5"): the top 5 % of the pool, after
 * checking that the pool looks like at most 5 % anomalies; else (or with no pool) the reference normals' 99th
 * percentile. `note` says which rule was used and why.
 *   [...chooseThresholds(valLabels, valScores), checkedPoolChoice(selectScores, heldOutNormalScores)]
 */
export function checkedPoolChoice(
  unlabelledScores: ArrayLike<number> | null,
  referenceNormalScores: ArrayLike<number>,
): StrategyChoice {
  const c = checkedPoolThreshold(unlabelledScores, referenceNormalScores);
  return {
    id: "pool5",
    strategy: "checkedPool",
    label:
      c.rule === "pool5"
        ? "top 5 % of the unlabelled pool's select part (checked)"
        : "99th percentile of the reference normals (pool rule's check failed)",
    options: c.rule === "pool5" ? { poolShare: POOL_SPILL_SHARE } : { percentile: REFERENCE_QUANTILE },
    threshold: c.threshold,
    validation: null,
    note: c.reason,
  };
}

/** The choice with this id, or an error listing the ids there are: `choiceById(choices, "p99").threshold`. */
export function choiceById<T extends { id: string }>(choices: readonly T[], id: string): T {
  const c = choices.find((x) => x.id === id);
  if (!c) throw new Error(`no strategy "${id}"; there are ${choices.map((x) => x.id).join(", ")}`);
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Threshold rules on unlabelled deployment images (no label read)

/**
 * A threshold calibrated on unlabelled deployment images: flag the top `maxSpillShare` of their scores. Its only
 * assumption is a prior that spills are at most that share of wells; no label is read.
 *
 *   deploymentThreshold(unlabelledScores, 0.05)   // the 95th percentile of the unlabelled scores
 */
export function deploymentThreshold(unlabelled: ArrayLike<number>, maxSpillShare = POOL_SPILL_SHARE): number {
  if (!(maxSpillShare > 0 && maxSpillShare < 1))
    throw new Error(`deploymentThreshold: maxSpillShare must be in (0, 1), got ${maxSpillShare}`);
  if (unlabelled.length === 0) throw new Error("deploymentThreshold: no unlabelled scores");
  return percentile(unlabelled, 100 * (1 - maxSpillShare));
}

/** The reference-normal quantile the checked pool rule falls back to (PROTOCOL-3.md). */
const REFERENCE_QUANTILE = 99;

export interface CheckedThreshold {
  threshold: number;
  /** "pool5" when the pool's top share was flagged; "referenceQuantile" when the rule fell back. */
  rule: "pool5" | "referenceQuantile";
  /**
   * Share of pool images scoring above every reference normal: a label-free estimate of the pool's anomalous share
   * (null without a pool).
   */
  estimatedAnomalousShare: number | null;
  /** One sentence for logs and reports: which rule, and why. */
  reason: string;
}

/**
 * The primary threshold of PROTOCOL-3.md: flag the top `maxSpillShare` of the unlabelled pool's scores (pool5), after
 * checking the rule's one assumption, that at most that share of the pool is anomalous. The share of pool images
 * scoring above *every* reference normal estimates the anomalous share without labels (a pool of normals like the
 * references puts about 1/(references + 1) of its images there). When it exceeds `maxSpillShare`, or when there is no
 * pool, the threshold is the `REFERENCE_QUANTILE`th percentile of the reference normals' scores, and `reason` says so.
 *
 *   checkedPoolThreshold(selectScores, heldOutNormalScores)
 *   // → { threshold, rule: "pool5", estimatedAnomalousShare: 0.03, reason }
 *   checkedPoolThreshold(null, heldOutNormalScores)           // rule "referenceQuantile": no pool
 */
export function checkedPoolThreshold(
  pool: ArrayLike<number> | null,
  reference: ArrayLike<number>,
  maxSpillShare = POOL_SPILL_SHARE,
): CheckedThreshold {
  if (reference.length === 0) throw new Error("checkedPoolThreshold: no reference normal scores");
  const ref = Array.from(reference);
  if (ref.some((v) => !Number.isFinite(v)))
    throw new Error("checkedPoolThreshold: a reference normal score is NaN or infinite");
  const fallback = percentile(ref, REFERENCE_QUANTILE);
  const q = `the ${REFERENCE_QUANTILE}th percentile of ${ref.length} reference normals`;
  if (pool === null || pool.length === 0)
    return {
      threshold: fallback,
      rule: "referenceQuantile",
      estimatedAnomalousShare: null,
      reason: `no unlabelled pool: threshold at ${q}`,
    };
  const values = Array.from(pool).filter(Number.isFinite);
  if (values.length === 0) throw new Error("checkedPoolThreshold: no finite pool scores");
  const top = Math.max(...ref);
  const share = values.filter((v) => v > top).length / values.length;
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  if (share > maxSpillShare)
    return {
      threshold: fallback,
      rule: "referenceQuantile",
      estimatedAnomalousShare: share,
      reason:
        `${pct(share)} of the ${values.length} pool images score above every reference normal, ` +
        `more than the ${pct(maxSpillShare)} the pool rule assumes: threshold at ${q} instead`,
    };
  return {
    threshold: deploymentThreshold(values, maxSpillShare),
    rule: "pool5",
    estimatedAnomalousShare: share,
    reason:
      `${pct(share)} of the ${values.length} pool images score above every reference normal ` +
      `(at most ${pct(maxSpillShare)} assumed): the top ${pct(maxSpillShare)} of the pool is flagged`,
  };
}
