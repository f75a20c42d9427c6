import { test } from "node:test";
import assert from "node:assert/strict";
import {
  downsampleCurve,
  evaluateOnTest,
  histogramData,
  misclassified,
  predictedVsActual,
  quantileGrid,
} from "../../lib/detector/evaluate";
import { chooseThresholds } from "../../lib/detector/thresholds";
import { F1, P90, TL, TS, VL, VS, close } from "../helpers/thresholds";

test("evaluateOnTest: applies the validation thresholds unchanged", () => {
  const choices = chooseThresholds(VL, VS, { strategies: [P90, F1] });
  const r = evaluateOnTest(TL, TS, choices);
  assert.equal(r.positives, 2);
  assert.equal(r.negatives, 3);
  const [p90, f1] = r.strategies;
  close(p90.threshold, 0.91);
  close(p90.metrics!.threshold, 0.91);
  // > 0.91: normals 0.95, 1.2 (fp 2), spill 1.6 (tp 1); tn 1 (0.5), fn 1 (0.8)
  assert.deepEqual([p90.metrics!.tp, p90.metrics!.fp, p90.metrics!.tn, p90.metrics!.fn], [1, 2, 1, 1]);
  close(p90.metrics!.tpr, 0.5);
  close(p90.metrics!.tnr, 1 / 3);
  close(p90.metrics!.precision, 1 / 3);
  close(p90.metrics!.f1, 0.4);
  close(p90.metrics!.accuracy, 0.4);
  close(p90.metrics!.balancedAccuracy, (0.5 + 1 / 3) / 2);
  // > 1.25: only spill 1.6
  close(f1.threshold, 1.25);
  assert.deepEqual([f1.metrics!.tp, f1.metrics!.fp, f1.metrics!.tn, f1.metrics!.fn], [1, 0, 3, 1]);
  // AUROC: pairs (spill > normal): 0.8 beats 0.5; 1.6 beats all three: 4 of 6.
  close(r.auroc, 4 / 6);
  // AP: ranked 1.6 (s), 1.2, 0.95, 0.8 (s), 0.5 → 0.5·1 + 0.5·(2/4)
  close(r.averagePrecision, 0.75);
});

test("evaluateOnTest: a strategy without a threshold stays without one, note kept", () => {
  const choices = chooseThresholds([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4], { strategies: [P90, F1] });
  const r = evaluateOnTest(TL, TS, choices);
  assert.equal(r.strategies[1].threshold, null);
  assert.equal(r.strategies[1].metrics, null);
  assert.match(r.strategies[1].note!, /no positives/);
  assert.throws(() => evaluateOnTest([0, 0], [0.1, 0.2], choices), /needs both classes, got 0 spills and 2 normals/);
});

test("predictedVsActual: validation figures against test figures, matched by id", () => {
  const choices = chooseThresholds(VL, VS, { strategies: [P90, F1] });
  const rows = predictedVsActual(choices, evaluateOnTest(TL, TS, choices));
  assert.equal(rows[0].id, "p90");
  close(rows[0].tnrValidation, 0.9);
  close(rows[0].tnrTest, 1 / 3);
  close(rows[0].tnrGap, 1 / 3 - 0.9);
  close(rows[0].tprValidation, 1);
  close(rows[0].tprTest, 0.5);
  close(rows[0].tprGap, -0.5);
  close(rows[1].tnrTest, 1);
  close(rows[1].tnrGap, 0);
  close(rows[1].f1Test, 2 / 3);
  assert.throws(() => predictedVsActual(choices, []), /"p90" has no test result/);
  const shifted = evaluateOnTest(
    TL,
    TS,
    choices.map((c) => ({ ...c, threshold: 0.5 })),
  );
  assert.throws(() => predictedVsActual(choices, shifted), /tested at threshold 0.5, but validation chose 0.91/);
});

test("predictedVsActual: a strategy with no threshold gives nulls", () => {
  const choices = chooseThresholds([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4], { strategies: [P90, F1] });
  const row = predictedVsActual(choices, evaluateOnTest(TL, TS, choices))[1];
  assert.deepEqual(
    [row.threshold, row.tnrValidation, row.tnrTest, row.tnrGap, row.tprGap],
    [null, null, null, null, null],
  );
});

test("misclassified: false positives by descending score, false negatives by ascending", () => {
  const r = misclassified(TL, TS, 0.7);
  assert.deepEqual(r.falsePositives, [2, 1]); // 1.2, 0.95
  assert.deepEqual(r.falseNegatives, []);
  const s = misclassified([1, 1, 0, 1], [0.3, 0.1, 0.9, 0.2], 0.5, 2);
  assert.deepEqual(s.falseNegatives, [1, 3]);
  assert.deepEqual(s.falsePositives, [2]);
});

test("quantileGrid, downsampleCurve, histogramData", () => {
  assert.deepEqual(quantileGrid([5, 1, 3, 2, 4], 5), [1, 2, 3, 4, 5]);
  assert.deepEqual(quantileGrid([1, 1, 1, 2], 4), [1, 2]);
  assert.throws(() => quantileGrid([], 5), /no scores/);
  const d = downsampleCurve({ fpr: [0, 1, 2, 3, 4], tpr: [0, 1, 2, 3, 4], thresholds: [9, 8, 7, 6, -Infinity] }, 3);
  assert.deepEqual(d, { fpr: [0, 2, 4], tpr: [0, 2, 4], thresholds: [9, 7, null] });
  assert.deepEqual(downsampleCurve({ x: [1, 2] }, 5), { x: [1, 2] });
  assert.throws(() => downsampleCurve({ x: [0], y: [], t: [0] }), /differ in length \(x 1, y 0, t 1\)/);
  const h = histogramData([0, 0, 1, 1], [0, 1, 2, 4], 2);
  assert.deepEqual(h, { edges: [0, 2, 4], normal: [2, 0], spill: [0, 2] });
});
