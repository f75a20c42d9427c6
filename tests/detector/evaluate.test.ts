import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  choiceById,
  chooseThresholds,
  downsampleCurve,
  evaluateOnTest,
  histogramData,
  misclassified,
  poolChoice,
  predictedVsActual,
  quantileGrid,
  scoreEvaluation,
  scoreSet,
  type StrategySpec,
} from "../../lib/detector";
import {
  comparisonTable,
  conclusions,
  confusionFrame,
  type EvaluationReport,
  SEED_RESULTS,
  strategyTable,
  writeEvaluation,
} from "../../lib/report";
import { frameTable } from "../../lib/report/display";
import { reconstruct } from "../../lib/detector/predict";
import { scoreBatch } from "../../lib/detector/scores";

const close = (actual: number | null, expected: number, eps = 1e-12) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

// Validation: normals 0.1 … 1.0 (ten), spills 1.5, 2.0. p90 of the normals = 0.91 (linear interpolation between 0.9 and 1.0).
const VL = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
const VS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0];
// Test: normals 0.5, 0.95, 1.2 and spills 0.8, 1.6. Different scores, so any re-choosing on test would show.
const TL = [0, 0, 0, 1, 1];
const TS = [0.5, 0.95, 1.2, 0.8, 1.6];

const P90: StrategySpec = { id: "p90", strategy: "percentile", options: { percentile: 90 }, label: "90th percentile" };
const F1: StrategySpec = { id: "maxF1", strategy: "maxF1", label: "best F1" };

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

test("confusionFrame: rows actual, columns predicted, rendered as a heat table", () => {
  const df = confusionFrame({ tp: 90, fp: 46, tn: 3619, fn: 39 });
  assert.deepEqual(df.columns, ["predicted normal", "predicted spill"]);
  assert.deepEqual(df.index, ["actual normal", "actual spill"]);
  assert.deepEqual(df.values, [
    [3619, 46],
    [39, 90],
  ]);
  const html = frameTable(df, { heat: true, showIndex: true });
  assert.match(html, /<th>actual spill<\/th><td[^>]*>39<\/td><td[^>]*>90<\/td>/);
  assert.match(html, /background:rgba/);
  assert.throws(() => confusionFrame({ tp: 1, fp: -1, tn: 0, fn: 0 }), /fp must be a non-negative integer/);
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

test("comparisonTable: ours measured, seeds quoted", () => {
  const t = comparisonTable([
    {
      source: "ours",
      metrics: evaluateOnTest(TL, TS, chooseThresholds(VL, VS, { strategies: [F1] })).strategies[0].metrics,
      validationAuroc: 1,
      testAuroc: 0.67,
    },
  ]);
  assert.equal(t.rows.length, 1 + SEED_RESULTS.length);
  assert.equal(t.rows[0][6], "measured here");
  assert.ok(t.rows.slice(1).every((r) => r[6] === "quoted, not measured by us"));
  const seed = t.rows.find((r) => String(r[0]).startsWith("best seed"))!;
  assert.deepEqual(seed.slice(1, 4), [0.6977, 0.9874, 0.6792]);
  assert.equal(strategyTable(chooseThresholds(VL, VS, { strategies: [P90] })).rows[0][0], "p90");
});

test("scoreEvaluation + writeEvaluation + conclusions", () => {
  const choices = chooseThresholds(VL, VS, { strategies: [P90, F1] });
  const ev = scoreEvaluation("mse", VL, VS, choices, TL, TS);
  assert.equal(ev.validation.auroc, 1);
  close(ev.test.auroc, 4 / 6);
  assert.equal(ev.test.roc.thresholds.at(-1), null);
  assert.deepEqual(ev.test.roc.fpr, [0, 0, 1 / 3, 2 / 3, 2 / 3, 1]);
  assert.deepEqual(ev.test.pr.recall, [0, 0.5, 0.5, 0.5, 1, 1]);
  const report: EvaluationReport = {
    createdAt: "now",
    model: { dir: "m", metadata: {} },
    primary: { score: "mse", strategy: "p90" },
    counts: { validation: { normals: 10, spills: 2 }, test: { normals: 3, spills: 2 } },
    scores: [ev],
    primaryScores: {
      validation: { score: "mse", threshold: 0.91, labels: VL, scores: VS },
      test: { score: "mse", threshold: 0.91, labels: TL, scores: TS },
    },
    references: SEED_RESULTS,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "evaluate-"));
  const file = path.join(dir, "sub", "evaluation.json");
  writeEvaluation(file, report);
  const back = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.equal(back.primary.strategy, "p90");
  assert.equal(back.scores[0].test.strategies[0].metrics.tp, 1);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["evaluation.json"]);
  assert.throws(
    () => writeEvaluation(file, { ...report, primary: { score: "ssim", strategy: "p90" } }),
    /primary score "ssim" is not among mse/,
  );
  assert.throws(
    () => writeEvaluation(file, { ...report, primary: { score: "mse", strategy: "p50" } }),
    /no strategy "p50"/,
  );
  const ragged = {
    ...report,
    primaryScores: { ...report.primaryScores, test: { ...report.primaryScores.test, scores: [1] } },
  };
  assert.throws(() => writeEvaluation(file, ragged), /primaryScores.test needs equally long labels and scores/);
  fs.rmSync(dir, { recursive: true, force: true });
  const text = conclusions(ev, "p90");
  assert.match(text, /AUROC on test 0\.667/);
  assert.match(text, /catches 1 of 2 spills \(TPR 50\.0 %\)/);
  assert.match(text, /misses the course target/);
  assert.match(text, /promised TNR 90\.0 % and test gave 33\.3 %/);
  assert.match(text, /`maxF1` predicted test TNR best/);
  assert.match(
    text,
    /Percentile thresholds.*`p90` promised TNR 90\.0 % and reached 33\.3 %.*off by more than 2 points/,
  );
  // a label-free pool threshold: no validation promise, but the share it meant to flag
  const pooled = [...choices, poolChoice([0.1, 0.2, 0.3, 0.4, 0.5], 0.2)]; // threshold 0.42
  const pev = scoreEvaluation("mse", VL, VS, pooled, TL, TS);
  const ptext = conclusions(pev, "pool20", SEED_RESULTS, { testName: "the report part" });
  assert.match(ptext, /chose 0\.4200 without labels; on the report part it catches/);
  assert.match(ptext, /set to flag 20\.0 % of the unlabelled images; on the report part it flagged/);
  assert.doesNotMatch(ptext, /promised TNR n\/a/);
});

test("scoreSet: one reconstruction, every score as lib/scores computes it", async () => {
  await tf.setBackend("cpu");
  const shape: [number, number, number] = [4, 4, 1];
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: shape,
        filters: 1,
        kernelSize: 3,
        padding: "same",
        activation: "sigmoid",
        kernelInitializer: "glorotUniform",
      }),
    ],
  });
  const images = Float32Array.from({ length: 3 * 16 }, (_, i) => ((i * 7) % 11) / 10);
  const r = await scoreSet(model, images, shape, ["mse", "maxSmoothed"], {
    keepReconstructions: true,
    scoreOptions: { maxSmoothed: { radius: 1 } },
  });
  const recon = await reconstruct(model, images, shape);
  assert.equal(r.count, 3);
  assert.deepEqual(r.reconstructions, recon);
  assert.deepEqual(r.scores.mse, scoreBatch("mse", images, recon, shape));
  assert.deepEqual(r.scores.maxSmoothed, scoreBatch("maxSmoothed", images, recon, shape, { radius: 1 }));
  assert.notDeepEqual(r.scores.maxSmoothed, scoreBatch("maxSmoothed", images, recon, shape));
  assert.equal((await scoreSet(model, images, shape, ["ssim"])).reconstructions, undefined);
  await assert.rejects(scoreSet(model, images, shape, []), /name at least one score/);
  await assert.rejects(scoreSet(model, images, shape, ["psnr" as "mse"]), /unknown score "psnr"/);
  await assert.rejects(scoreSet(model, images.subarray(1), shape, ["mse"]), /not a whole number/);
  model.dispose();
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
