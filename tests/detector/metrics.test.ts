import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32 } from "../../lib/common/random";
import {
  auroc,
  averagePrecision,
  checkLabelsScores,
  confusionMatrix,
  cumulativeCounts,
  metricsAtThreshold,
  metricsVsThreshold,
  prCurve,
  predict,
  rocCurve,
} from "../../lib/detector/metrics";

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

const rng = mulberry32;

/** O(n²) Mann–Whitney: P(pos > neg) + 0.5 P(tie) over all pairs. */
function bruteAuroc(labels: number[], scores: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      sum += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

/** AP straight from the definition: recall and precision recomputed by a full scan at every distinct score. */
function bruteAp(labels: number[], scores: number[]): number {
  const thresholds = [...new Set(scores)].sort((a, b) => b - a).concat(-Infinity);
  let ap = 0;
  let prevRecall = 0;
  for (const t of thresholds) {
    const m = confusionMatrix(labels, scores, t);
    const recall = m.tp / (m.tp + m.fn);
    const precision = m.tp + m.fp === 0 ? 1 : m.tp / (m.tp + m.fp);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}

const L = [0, 0, 1, 1];
const S = [0.1, 0.4, 0.35, 0.8];

test("hand case: AUROC 0.75, AP 5/6, ROC and PR points", () => {
  close(auroc(L, S), 0.75);
  close(averagePrecision(L, S), 5 / 6);
  const roc = rocCurve(L, S);
  assert.deepEqual(roc.thresholds, [0.8, 0.4, 0.35, 0.1, -Infinity]);
  assert.deepEqual(roc.fpr, [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(roc.tpr, [0, 0.5, 0.5, 1, 1]);
  const pr = prCurve(L, S);
  assert.deepEqual(pr.recall, [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(pr.precision, [1, 1, 0.5, 2 / 3, 0.5]);
});

test("all scores tied: AUROC 0.5, one diagonal step, AP = prevalence", () => {
  const labels = [0, 1, 0, 1, 0];
  const scores = [0.5, 0.5, 0.5, 0.5, 0.5];
  close(auroc(labels, scores), 0.5);
  const roc = rocCurve(labels, scores);
  assert.deepEqual(roc.fpr, [0, 1]);
  assert.deepEqual(roc.tpr, [0, 1]);
  close(averagePrecision(labels, scores), 0.4);
});

test("partial ties count as half a pair", () => {
  // positives 0.2, 0.9, 0.5; negatives 0.2, 0.5: pairs 0.5 + 0 + 1 + 1 + 1 + 0.5 = 4 of 6
  const labels = [0, 1, 1, 0, 1];
  const scores = [0.2, 0.2, 0.9, 0.5, 0.5];
  close(auroc(labels, scores), 4 / 6);
  // steps: (R 1/3, P 1), (R 2/3, P 2/3), (R 1, P 3/5)
  close(averagePrecision(labels, scores), 34 / 45);
  const c = cumulativeCounts(labels, scores);
  assert.deepEqual(c.thresholds, [0.9, 0.5, 0.2, -Infinity]);
  assert.deepEqual(c.tp, [0, 1, 2, 3]);
  assert.deepEqual(c.fp, [0, 0, 1, 2]);
});

test("perfect and inverted rankings", () => {
  close(auroc([0, 0, 1], [1, 2, 3]), 1);
  close(averagePrecision([0, 0, 1], [1, 2, 3]), 1);
  close(auroc([0, 0, 1], [3, 2, 1]), 0);
  close(averagePrecision([0, 0, 1], [3, 2, 1]), 1 / 3);
  close(averagePrecision([1, 1], [0.3, 0.1]), 1); // no negatives: every alarm is right
});

test("randomized: AUROC equals the O(n²) Mann–Whitney count, AP equals the definition", () => {
  const rand = rng(7);
  for (let trial = 0; trial < 30; trial++) {
    const n = 2 + Math.floor(rand() * 150);
    const levels = 1 + Math.floor(rand() * 20); // few levels → many ties
    const labels = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
    labels[0] = 0;
    labels[1] = 1;
    const scores = labels.map((y) => Math.round((rand() + 0.3 * y) * levels) / levels);
    close(auroc(labels, scores), bruteAuroc(labels, scores), 1e-12);
    close(averagePrecision(labels, scores), bruteAp(labels, scores), 1e-12);
  }
});

test("ROC curve is monotone from (0,0) to (1,1); typed arrays work", () => {
  const rand = rng(3);
  const labels = Uint8Array.from({ length: 500 }, () => (rand() < 0.1 ? 1 : 0));
  const scores = Float32Array.from(labels, (y) => rand() + y * 0.5);
  const roc = rocCurve(labels, scores);
  assert.equal(roc.fpr[0], 0);
  assert.equal(roc.tpr[0], 0);
  assert.equal(roc.fpr.at(-1), 1);
  assert.equal(roc.tpr.at(-1), 1);
  for (let i = 1; i < roc.fpr.length; i++) {
    assert.ok(roc.fpr[i] >= roc.fpr[i - 1] && roc.tpr[i] >= roc.tpr[i - 1]);
    assert.ok(roc.thresholds[i] < roc.thresholds[i - 1]);
  }
  assert.equal(roc.fpr.length, new Set(scores).size + 1);
});

test("metricsAtThreshold: strict rule score > threshold and every metric by hand", () => {
  // threshold 0.35: 0.35 itself is NOT flagged → flags 0.4 (normal) and 0.8 (spill)
  assert.deepEqual(confusionMatrix(L, S, 0.35), { tp: 1, fp: 1, tn: 1, fn: 1 });
  const m = metricsAtThreshold(L, S, 0.3); // flags 0.4, 0.35, 0.8
  assert.deepEqual({ tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn }, { tp: 2, fp: 1, tn: 1, fn: 0 });
  close(m.tpr, 1);
  close(m.tnr, 0.5);
  close(m.fpr, 0.5);
  close(m.precision, 2 / 3);
  close(m.f1, 0.8);
  close(m.accuracy, 0.75);
  close(m.balancedAccuracy, 0.75);
  close(m.youdenJ, 0.5);
  assert.equal(m.threshold, 0.3);
  assert.deepEqual([...predict(S, 0.35)], [0, 1, 0, 1]);
});

test("nothing predicted positive: precision 1, F1 0; empty classes give NaN rates", () => {
  const none = metricsAtThreshold(L, S, 0.8);
  assert.equal(none.tp + none.fp, 0);
  assert.equal(none.precision, 1);
  assert.equal(none.f1, 0);
  assert.equal(none.tpr, 0);
  const normalsOnly = metricsAtThreshold([0, 0, 0], [0.1, 0.2, 0.3], 0.25);
  assert.ok(Number.isNaN(normalsOnly.tpr));
  assert.ok(Number.isNaN(normalsOnly.youdenJ));
  assert.equal(normalsOnly.fpr, 1 / 3);
  assert.equal(normalsOnly.f1, 0); // one false alarm, no hit
  assert.ok(Number.isNaN(metricsAtThreshold([0, 0], [0.1, 0.2], 0.5).f1)); // 0/0: nothing to find, nothing flagged
  assert.ok(Number.isNaN(metricsAtThreshold([1, 1], [0.1, 0.2], 0.5).tnr));
});

test("metricsVsThreshold agrees with metricsAtThreshold, thresholds on and between scores", () => {
  const rand = rng(11);
  const labels = Array.from({ length: 300 }, () => (rand() < 0.2 ? 1 : 0));
  const scores = labels.map((y) => Math.round((rand() + y * 0.4) * 30) / 30);
  const thresholds = [-Infinity, -1, ...scores.slice(0, 40), 0.3333, 0.5, 2, Infinity];
  const sweep = metricsVsThreshold(labels, scores, thresholds);
  assert.equal(sweep.length, thresholds.length);
  sweep.forEach((m, k) => assert.deepEqual(m, metricsAtThreshold(labels, scores, thresholds[k])));
});

test("errors: empty, length mismatch, bad label, NaN score with its index, one class", () => {
  assert.throws(() => auroc([], []), /empty/);
  assert.throws(() => auroc([0, 1], [0.1]), /2 labels, 1 scores/);
  assert.throws(() => auroc([0, 2], [0.1, 0.2]), /labels\[1\] is 2; labels must be 0 \(normal\) or 1/);
  assert.throws(() => averagePrecision([0, 0.5], [0.1, 0.2]), /labels\[1\] is 0.5/);
  assert.throws(() => metricsAtThreshold([0, 1, 1], [0.1, 0.2, NaN], 0.1), /scores\[2\] is NaN/);
  assert.throws(() => checkLabelsScores([0, 1], [Infinity, 0]), /scores\[0\] is Infinity/);
  assert.throws(
    () => auroc([1, 1, 1], [0.1, 0.2, 0.3]),
    /AUROC needs both classes.*3 positives \(label 1\) and 0 negatives/,
  );
  assert.throws(() => auroc([0, 0], [0.1, 0.2]), /AUROC needs both classes.*0 positives/);
  assert.throws(() => rocCurve([0, 0], [0.1, 0.2]), /ROC curve needs both classes/);
  assert.throws(() => averagePrecision([0, 0], [0.1, 0.2]), /at least one positive/);
  assert.throws(() => metricsAtThreshold(L, S, NaN), /threshold is NaN/);
  assert.throws(() => metricsVsThreshold(L, S, [0.1, NaN]), /threshold is NaN/);
});

test(
  "10k items: AUROC equals the Mann–Whitney U statistic (ranks with ties averaged); " +
    "the sweep covers every threshold",
  () => {
    // speed lives in npm run bench -- metrics, not here
    const rand = rng(5);
    const labels = Uint8Array.from({ length: 10_000 }, () => (rand() < 0.05 ? 1 : 0));
    const scores = Float32Array.from(labels, (y) => Math.round((rand() + y) * 50) / 50); // ties on purpose
    const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
    const ranks = new Float64Array(scores.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
      for (let k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    const pos = labels.reduce((a, b) => a + b, 0),
      neg = labels.length - pos;
    const rankSum = labels.reduce((s, y, i) => s + (y ? ranks[i] : 0), 0);
    const u = (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
    assert.ok(Math.abs(auroc(labels, scores) - u) < 1e-9, `${auroc(labels, scores)} vs ${u}`);
    assert.equal(
      metricsVsThreshold(
        labels,
        scores,
        Array.from({ length: 200 }, (_, i) => i / 100),
      ).length,
      200,
    );
    assert.ok(averagePrecision(labels, scores) > 0 && averagePrecision(labels, scores) <= 1);
  },
);
