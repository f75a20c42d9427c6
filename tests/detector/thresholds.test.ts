import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32 } from "../../lib/common/random";
import { metricsAtThreshold } from "../../lib/detector/metrics";
import { evaluateOnTest, predictedVsActual } from "../../lib/detector/evaluate";
import {
  candidateThresholds,
  checkedPoolThreshold,
  choiceById,
  chooseThreshold,
  chooseThresholds,
  deploymentThreshold,
  maxF1Threshold,
  maxYoudenThreshold,
  percentile,
  percentileThreshold,
  poolChoice,
  STRATEGY_NAMES,
  targetTnrThreshold,
  targetTprThreshold,
  type StrategyName,
} from "../../lib/detector/thresholds";
import { F1, P90, VL, VS, close } from "../helpers/thresholds";

const rng = mulberry32;

// Sorted descending: 0.9 spill, 0.6 normal, 0.5 spill, 0.3, 0.2, 0.1 normals.
// Candidates 1.05, 0.75, 0.55, 0.4, 0.25, 0.15, 0.05 flag tp [0,1,1,2,2,2,2], fp [0,0,1,1,2,3,4].
const L = [0, 0, 0, 0, 1, 1];
const S = [0.1, 0.2, 0.3, 0.6, 0.5, 0.9];

test("candidates: midpoints between distinct scores, half a gap beyond each end", () => {
  const c = candidateThresholds(L, S);
  [1.05, 0.75, 0.55, 0.4, 0.25, 0.15, 0.05].forEach((t, i) => close(c.thresholds[i], t));
  assert.deepEqual(c.tp, [0, 1, 1, 2, 2, 2, 2]);
  assert.deepEqual(c.fp, [0, 0, 1, 1, 2, 3, 4]);
  const tied = candidateThresholds([0, 1, 1, 0], [0.25, 0.5, 1, 1]);
  assert.deepEqual(tied.thresholds, [1.25, 0.75, 0.375, 0.125]);
  assert.deepEqual(tied.tp, [0, 1, 2, 2]);
  assert.deepEqual(tied.fp, [0, 1, 1, 2]);
});

test("percentile: linear interpolation between order statistics", () => {
  close(percentile([4, 1, 3, 2], 50), 2.5);
  close(percentile([4, 1, 3, 2], 0), 1);
  close(percentile([4, 1, 3, 2], 100), 4);
  close(percentile([10], 37), 10);
  close(percentile([0, 10], 99), 9.9);
  assert.throws(() => percentile([1, 2], 101), /percentile must be in \[0, 100\], got 101/);
  assert.throws(() => percentile([], 50), /empty/);
});

test("percentile of normal scores ignores the spills' scores", () => {
  // normals 0.1, 0.2, 0.3, 0.6: q = 99 → h = 2.97 → 0.3 + 0.97 · 0.3
  const c = percentileThreshold(L, S, 99);
  assert.equal(c.strategy, "percentile");
  close(c.threshold, 0.591);
  assert.equal(c.validation.fp, 1); // 0.6 > 0.591
  assert.equal(c.validation.tp, 1); // 0.9
  close(chooseThreshold("percentile", L, S, { percentile: 50 }).threshold, 0.25);
  // q = 100 is the largest normal score, which (score > threshold) flags no normal
  assert.equal(percentileThreshold(L, S, 100).validation.fp, 0);
  const other = percentileThreshold(
    L,
    S.map((s, i) => (L[i] === 1 ? s * 100 : s)),
    99,
  );
  close(other.threshold, 0.591);
});

test("maxF1 and maxYouden on a hand-made case", () => {
  // F1 = 2tp/(tp+fp+2): [0, 2/3, 1/2, 4/5, 2/3, 4/7, 1/2]; J = tp/2 − fp/4: [0, .5, .25, .75, .5, .25, 0]
  const f = maxF1Threshold(L, S);
  close(f.threshold, 0.4);
  close(f.validation.f1, 0.8);
  assert.equal(f.note, undefined);
  const j = maxYoudenThreshold(L, S);
  close(j.threshold, 0.4);
  close(j.validation.youdenJ, 0.75);
});

test("maxF1 and maxYouden can disagree; ties go to the highest threshold", () => {
  // descending: spill .9, normal .8, normal .7, spill .6, spill .5
  const labels = [1, 0, 0, 1, 1];
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
  const f = maxF1Threshold(labels, scores);
  close(f.threshold, 0.45); // flag everything: F1 = 6/8
  close(f.validation.f1, 0.75);
  close(maxYoudenThreshold(labels, scores).threshold, 0.85); // J = 1/3
  // J = [0, .5, 0, .5, 0] at 0.9, 0.7, 0.5, 0.3, 0.1 → the higher of the tied thresholds
  close(maxYoudenThreshold([1, 0, 1, 0], [0.8, 0.6, 0.4, 0.2]).threshold, 0.7);
});

test("target TNR: smallest threshold reaching it; target TPR: largest threshold reaching it", () => {
  // TNR at candidates: [1, 1, .75, .75, .5, .25, 0]
  close(targetTnrThreshold(L, S, 0.75).threshold, 0.4);
  close(targetTnrThreshold(L, S, 0.99).threshold, 0.75);
  close(targetTnrThreshold(L, S, 0).threshold, 0.05);
  // TPR at candidates: [0, .5, .5, 1, 1, 1, 1]
  close(targetTprThreshold(L, S, 0.5).threshold, 0.75);
  close(targetTprThreshold(L, S, 1).threshold, 0.4);
  close(targetTprThreshold(L, S, 0).threshold, 1.05);
  close(chooseThreshold("targetTnr", L, S, { targetTnr: 0.75 }).threshold, 0.4);
  close(chooseThreshold("targetTpr", L, S, { targetTpr: 0.5 }).threshold, 0.75);
  assert.throws(() => targetTnrThreshold(L, S, 1.5), /targetTnr must be in \[0, 1\], got 1.5/);
  assert.throws(() => chooseThreshold("targetTpr", L, S, { targetTpr: -0.1 }), /targetTpr must be in \[0, 1\]/);
});

test("randomized: search strategies are optimal over all thresholds and never sit on a validation score", () => {
  const rand = rng(42);
  for (let trial = 0; trial < 25; trial++) {
    const n = 5 + Math.floor(rand() * 200);
    const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rand() < 0.25 ? 1 : 0));
    const scores = labels.map((y) => Math.round((rand() + 0.5 * y) * 40) / 40);
    const every = [...new Set(scores), -Infinity].map((t) => metricsAtThreshold(labels, scores, t));
    const f = maxF1Threshold(labels, scores);
    close(f.validation.f1, Math.max(...every.map((m) => m.f1)));
    const j = maxYoudenThreshold(labels, scores);
    close(j.validation.youdenJ, Math.max(...every.map((m) => m.youdenJ)));
    const tnr = targetTnrThreshold(labels, scores, 0.9);
    assert.ok(tnr.validation.tnr >= 0.9);
    // flagging one more group of tied scores (threshold just below the highest unflagged score) misses the target
    const unflagged = scores.filter((s) => s < tnr.threshold);
    if (unflagged.length) {
      const top = Math.max(...unflagged);
      const below = Math.max(-Infinity, ...unflagged.filter((s) => s < top));
      assert.ok(metricsAtThreshold(labels, scores, below).tnr < 0.9);
    }
    const tpr = targetTprThreshold(labels, scores, 0.8);
    assert.ok(tpr.validation.tpr >= 0.8);
    // flagging one group fewer (threshold at the lowest flagged score) misses the target
    const flagged = scores.filter((s) => s > tpr.threshold);
    if (flagged.length) assert.ok(metricsAtThreshold(labels, scores, Math.min(...flagged)).tpr < 0.8);
    for (const c of [f, j, tnr, tpr]) assert.ok(!scores.includes(c.threshold), `${c.strategy} sits on a score`);
  }
});

test("no positives: percentile and targetTnr work, F1 / Youden / TPR target say why they cannot", () => {
  const labels = [0, 0, 0, 0];
  const scores = [0.1, 0.2, 0.3, 0.4];
  close(chooseThreshold("percentile", labels, scores, { percentile: 50 }).threshold, 0.25);
  close(chooseThreshold("targetTnr", labels, scores, { targetTnr: 0.5 }).threshold, 0.25);
  for (const s of ["maxF1", "maxYouden", "targetTpr"] as StrategyName[]) {
    assert.throws(
      () => chooseThreshold(s, labels, scores),
      new RegExp(`"${s}" is impossible: the validation set has no positives`),
    );
  }
});

test("no negatives: percentile / TNR target / Youden say why they cannot; F1 and TPR target work", () => {
  const labels = [1, 1, 1];
  const scores = [0.5, 0.7, 0.9];
  for (const s of ["percentile", "targetTnr", "maxYouden"] as StrategyName[]) {
    assert.throws(
      () => chooseThreshold(s, labels, scores),
      new RegExp(`"${s}" is impossible: the validation set has no negatives`),
    );
  }
  close(chooseThreshold("maxF1", labels, scores).threshold, 0.4); // flag everything
  close(chooseThreshold("targetTpr", labels, scores, { targetTpr: 0.6 }).threshold, 0.6);
});

test("all scores equal: every strategy returns that score with a note", () => {
  const labels = [0, 1, 0, 1];
  const scores = [0.3, 0.3, 0.3, 0.3];
  const all = STRATEGY_NAMES.map((s) => chooseThreshold(s, labels, scores));
  assert.deepEqual(
    all.map((c) => c.strategy),
    [...STRATEGY_NAMES],
  );
  for (const c of all) {
    assert.equal(c.threshold, 0.3);
    assert.match(c.note ?? "", /all 4 validation scores equal 0.3: no threshold separates them/);
    assert.equal(c.validation.tp + c.validation.fp, 0);
  }
});

test("NaN scores, bad labels, unknown strategy: clear errors", () => {
  for (const s of STRATEGY_NAMES) {
    assert.throws(() => chooseThreshold(s, [0, 1, 0], [0.1, NaN, 0.3]), /scores\[1\] is NaN/);
    assert.throws(() => chooseThreshold(s, [0, 1, 3], [0.1, 0.2, 0.3]), /labels\[2\] is 3/);
    assert.throws(() => chooseThreshold(s, [0, 1], [0.1]), /2 labels, 1 scores/);
  }
  assert.throws(
    () => chooseThreshold("median" as StrategyName, L, S),
    /unknown threshold strategy "median"; choose one of percentile, maxF1/,
  );
});

test("chooseThresholds: each strategy on validation, with its validation metrics", () => {
  const [p90, f1] = chooseThresholds(VL, VS, { strategies: [P90, F1] });
  close(p90.threshold, 0.91);
  close(p90.validation!.tnr, 0.9); // the normal at 1.0 is above 0.91
  assert.equal(p90.validation!.tpr, 1);
  // maxF1: every candidate between 1.0 and 1.5 gives F1 = 1; the midpoint is 1.25.
  close(f1.threshold, 1.25);
  assert.equal(f1.validation!.f1, 1);
  assert.equal(p90.note, undefined);
});

test("chooseThresholds: default strategies are all there, ids unique", () => {
  const ids = chooseThresholds(VL, VS).map((c) => c.id);
  assert.deepEqual(ids, ["p95", "p99", "maxF1", "maxYouden", "tnr95", "tnr99", "tpr95"]);
  assert.throws(() => chooseThresholds(VL, VS, { strategies: [P90, P90] }), /"p90" is used twice/);
  assert.throws(() => chooseThresholds(VL, VS, { strategies: [] }), /no strategies/);
});

test("chooseThresholds: an impossible strategy becomes a note, the others still run", () => {
  const normalsOnly = [0, 0, 0, 0];
  const choices = chooseThresholds(normalsOnly, [0.1, 0.2, 0.3, 0.4], { strategies: [P90, F1] });
  close(choices[0].threshold, 0.37);
  assert.equal(choices[1].threshold, null);
  assert.equal(choices[1].validation, null);
  assert.match(choices[1].note!, /maxF1.*no positives/);
});

test("chooseThresholds: bad input throws instead of becoming notes", () => {
  assert.throws(() => chooseThresholds([0, 1], [0.1]), /differ in length/);
  assert.throws(() => chooseThresholds([0, 2], [0.1, 0.2]), /labels\[1\] is 2/);
  assert.throws(() => chooseThresholds([0, 1], [0.1, NaN]), /scores\[1\] is NaN/);
});

test("choiceById names the ids there are", () => {
  assert.throws(() => choiceById([{ id: "a" }, { id: "b" }], "c"), /no strategy "c"; there are a, b/);
});

test("poolChoice: the top share of unlabelled scores, no validation metrics, reported beside the others", () => {
  const unlabelled = Array.from({ length: 101 }, (_, i) => i); // 95th percentile = 95
  const c = poolChoice(unlabelled, 0.05);
  assert.equal(c.id, "pool5");
  assert.equal(c.threshold, 95);
  assert.equal(c.validation, null);
  const r = evaluateOnTest([0, 0, 1, 1], [10, 96, 94, 99], [c]).strategies[0];
  assert.equal(r.metrics!.tp, 1); // 99 > 95; 94 is missed
  assert.equal(r.metrics!.fp, 1); // 96 > 95
  assert.equal(predictedVsActual([c], [r])[0].tnrValidation, null);
  assert.throws(() => poolChoice([], 0.05), /no unlabelled scores/);
});

test(
  "checkedPoolThreshold: pool5 when the pool looks mostly normal, " +
    "the reference quantile when not or when there is no pool",
  () => {
    const rand = mulberry32(4);
    const ref = Array.from({ length: 500 }, () => rand());
    const normalPool = [...Array.from({ length: 970 }, () => rand()), ...Array.from({ length: 30 }, () => 5 + rand())];
    const ok = checkedPoolThreshold(normalPool, ref);
    assert.equal(ok.rule, "pool5");
    assert.equal(ok.threshold, deploymentThreshold(normalPool, 0.05));
    assert.ok(Math.abs(ok.estimatedAnomalousShare! - 0.03) < 0.005);
    const spilled = [...Array.from({ length: 700 }, () => rand()), ...Array.from({ length: 300 }, () => 5 + rand())];
    const bad = checkedPoolThreshold(spilled, ref);
    assert.equal(bad.rule, "referenceQuantile");
    assert.ok(bad.threshold < 1, "the fallback sits among the reference normals, below the spills");
    assert.match(
      bad.reason,
      /30\.0 % of the 1000 pool images score above every reference normal, more than the 5\.0 %/,
    );
    const none = checkedPoolThreshold(null, ref);
    assert.equal(none.rule, "referenceQuantile");
    assert.match(none.reason, /no unlabelled pool/);
    assert.throws(() => checkedPoolThreshold(normalPool, []), /no reference/);
    assert.throws(() => checkedPoolThreshold(normalPool, [1, NaN]), /NaN/);
  },
);
