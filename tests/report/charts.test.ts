import { test } from "node:test";
import assert from "node:assert/strict";
import {
  binnedScoreHistogram,
  chartHtml,
  finiteOrNull,
  lossCurves,
  metricsVsThresholdChart,
  prChart,
  rocChart,
  scoreHistogram,
  validationCurves,
} from "../../lib/report/charts";
import { metricsVsThreshold, prCurve, rocCurve } from "../../lib/detector/metrics";
import type { EpochRecord } from "../../lib/detector/train";

const record = (epoch: number, loss: number, valLoss: number, valAuroc: number | null, best: boolean): EpochRecord => ({
  epoch,
  loss,
  valLoss,
  valAuroc,
  best,
  seconds: 1,
  imagesPerSecond: 100,
  time: "2025-01-01T00:00:00Z",
});
const HISTORY = [
  record(1, 0.004, 0.003, 0.9, true),
  record(2, 0.003, 0.0025, null, true),
  record(3, 0.0028, 0.0026, 0.95, false),
];

/** Everything a trace or layout would send to plotly is JSON: no NaN/Infinity may hide in it. */
const roundTrips = (v: unknown) => assert.deepEqual(JSON.parse(JSON.stringify(v)), v);

test("finiteOrNull keeps finite numbers and nulls the rest", () => {
  assert.deepEqual([1.5, 0, -Infinity, Infinity, NaN, null, undefined].map(finiteOrNull), [
    1.5,
    0,
    null,
    null,
    null,
    null,
    null,
  ]);
});

test("lossCurves: train and validation loss per epoch on a log axis, the best epoch starred", () => {
  const spec = lossCurves(HISTORY);
  assert.equal(spec.traces.length, 3);
  assert.deepEqual(spec.traces[0].x, [1, 2, 3]);
  assert.deepEqual(spec.traces[0].y, [0.004, 0.003, 0.0028]);
  assert.deepEqual(spec.traces[1].y, [0.003, 0.0025, 0.0026]);
  // the checkpoint in best/ is the last improvement, epoch 2
  assert.deepEqual(spec.traces[2].x, [2]);
  assert.deepEqual(spec.traces[2].y, [0.0025]);
  assert.equal((spec.options.layout!.yaxis as { type: string }).type, "log");
  roundTrips(spec);
  assert.match(chartHtml(spec), /Plotly\.newPlot/);
});

test("lossCurves/validationCurves reject an empty history", () => {
  assert.throws(() => lossCurves([]), /no epochs/);
  assert.throws(() => validationCurves([]), /no epochs/);
});

test("validationCurves: AUROC per epoch, a missing AUROC is a gap", () => {
  const spec = validationCurves(HISTORY);
  assert.deepEqual(spec.traces[0].y, [0.9, null, 0.95]);
  // best epoch 2 has no AUROC: no star
  assert.equal(spec.traces.length, 1);
  const starred = validationCurves([record(1, 1, 1, 0.8, true), record(2, 1, 1, 0.7, false)]);
  assert.deepEqual(starred.traces[1].y, [0.8]);
});

test("scoreHistogram: one histogram per class on shared bins, a line at the threshold", () => {
  const scores = [0.1, 0.2, 0.3, 0.9, 1.1];
  const labels = [0, 0, 0, 1, 1];
  const spec = scoreHistogram(scores, labels, 0.5, { bins: 10 });
  assert.equal(spec.traces.length, 2);
  assert.deepEqual(spec.traces[0].x, [0.1, 0.2, 0.3]);
  assert.deepEqual(spec.traces[1].x, [0.9, 1.1]);
  assert.match(String(spec.traces[1].name), /spill \(n = 2\)/);
  assert.deepEqual(spec.traces[0].xbins, spec.traces[1].xbins);
  const bins = spec.traces[0].xbins as { start: number; end: number; size: number };
  assert.equal(bins.start, 0.1);
  assert.ok(Math.abs(bins.size - 0.1) < 1e-12);
  assert.ok(bins.end > 1.1, "the largest score falls inside the last bin");
  assert.equal(spec.options.layout!.barmode, "overlay");
  const shapes = spec.options.layout!.shapes as { x0: number; x1: number; yref: string }[];
  assert.equal(shapes.length, 1);
  assert.equal(shapes[0].x0, 0.5);
  assert.equal(shapes[0].x1, 0.5);
  assert.equal(shapes[0].yref, "paper");
  roundTrips(spec);
});

test("scoreHistogram: no threshold, no line; equal scores still bin; bad input is an error", () => {
  const spec = scoreHistogram([0.2, 0.2], [0, 1]);
  assert.deepEqual(spec.options.layout!.shapes, []);
  assert.equal((spec.traces[0].xbins as { size: number }).size, 1);
  assert.throws(() => scoreHistogram([0.1], [0, 1]), /differ in length/);
  assert.throws(() => scoreHistogram([0.1, 0.2], [0, 2]), /labels\[1\] is 2/);
  assert.throws(() => scoreHistogram([0.1, NaN], [0, 1]), /scores\[1\] is NaN/);
  assert.throws(() => scoreHistogram([0.1, 0.2], [0, 1], -Infinity), /threshold must be a finite number/);
  assert.throws(() => scoreHistogram([0.1, 0.2], [0, 1], 0.1, { bins: 0 }), /bins/);
});

test("rocChart: the -Infinity threshold becomes null, the curve runs (0,0) → (1,1), AUROC in the name", () => {
  const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  assert.equal(roc.thresholds.at(-1), -Infinity);
  const spec = rocChart(roc, { auroc: 0.75 });
  const curve = spec.traces[0];
  assert.deepEqual(curve.x, roc.fpr);
  assert.deepEqual(curve.y, roc.tpr);
  assert.equal((curve.customdata as unknown[]).at(-1), null);
  assert.deepEqual((curve.customdata as unknown[]).slice(0, -1), roc.thresholds.slice(0, -1));
  assert.match(String(curve.name), /0\.7500/);
  assert.deepEqual(spec.traces[1].x, [0, 1]);
  roundTrips(spec);
  assert.throws(() => rocChart({ fpr: [0, 1], tpr: [0], thresholds: [1, -Infinity] }), /equally long/);
});

test("prChart: steps, a null last threshold, and the no-skill baseline at the share of positives", () => {
  const pr = prCurve([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9]);
  const spec = prChart(pr, { averagePrecision: 1 });
  assert.equal((spec.traces[0].line as { shape: string }).shape, "vh");
  assert.equal((spec.traces[0].customdata as unknown[]).at(-1), null);
  assert.deepEqual(spec.traces[1].y, [0.25, 0.25]);
  assert.match(String(spec.traces[1].name), /25\.0 % spills/);
  roundTrips(spec);
});

test("metricsVsThresholdChart: four series sorted by threshold, -Infinity → null, NaN → null, a chosen line", () => {
  const labels = [0, 0, 1, 1];
  const scores = [0.1, 0.4, 0.35, 0.8];
  const rows = metricsVsThreshold(labels, scores, [0.5, -Infinity, 0.2]);
  const spec = metricsVsThresholdChart(rows, { threshold: 0.3 });
  assert.deepEqual(
    spec.traces.map((t) => t.name),
    ["TPR (recall)", "TNR (specificity)", "precision", "F1"],
  );
  assert.deepEqual(spec.traces[0].x, [null, 0.2, 0.5]);
  assert.deepEqual(spec.traces[0].y, [1, 1, 0.5]);
  assert.deepEqual(spec.traces[1].y, [0, 0.5, 1]);
  assert.equal((spec.options.layout!.shapes as { x0: number }[])[0].x0, 0.3);
  // no positives: TPR is NaN and must not reach plotly as NaN
  const noPos = metricsVsThresholdChart(metricsVsThreshold([0, 0], [0.1, 0.2], [0.15]));
  assert.deepEqual(noPos.traces[0].y, [null]);
  roundTrips(noPos);
  assert.throws(() => metricsVsThresholdChart([]), /no rows/);
});

test("binnedScoreHistogram: bars at bin centres, shares per class, checked input", () => {
  const spec = binnedScoreHistogram({ edges: [0, 1, 3], normal: [3, 1], spill: [0, 0] }, 1.5);
  assert.deepEqual(spec.traces[0].x, [0.5, 2]);
  assert.deepEqual(spec.traces[0].width, [1, 2]);
  assert.deepEqual(spec.traces[0].y, [0.75, 0.25]);
  assert.deepEqual(spec.traces[1].y, [0, 0], "an empty class stays at zero, not NaN");
  assert.equal((spec.options.layout!.shapes as { x0: number }[])[0].x0, 1.5);
  assert.throws(() => binnedScoreHistogram({ edges: [0, 1], normal: [1, 2], spill: [0, 0] }), /n \+ 1 edges/);
  assert.throws(() => binnedScoreHistogram({ edges: [0, 1, 1], normal: [1, 2], spill: [0, 0] }), /edges must increase/);
  assert.throws(() => binnedScoreHistogram({ edges: [0, 1], normal: [-1], spill: [0] }), /non-negative/);
});
