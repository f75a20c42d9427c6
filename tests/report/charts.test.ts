import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import {
  binnedScoreHistogram,
  chartHtml,
  errorMapPng,
  evaluationCharts,
  finiteOrNull,
  heatColour,
  lossCurves,
  metricsVsThresholdChart,
  pickExamples,
  pngGrid,
  prChart,
  reconstructionExamples,
  reconstructionTiles,
  rocChart,
  scoreHistogram,
  selectImages,
  toPng,
  validationCurves,
} from "../../lib/report";
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

async function pngSize(bytes: Uint8Array) {
  const m = await sharp(bytes).metadata();
  assert.equal(m.format, "png");
  return { width: m.width, height: m.height, channels: m.channels };
}

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

test("toPng: an HWC image becomes a PNG scaled by nearest neighbour, pixel values kept", async () => {
  const img = new Float32Array(2 * 3 * 3);
  img.set([1, 0, 0], 0); // top-left red
  img.set([0, 0, 1], (1 * 3 + 2) * 3); // bottom-right blue
  const png = await toPng(img, [2, 3, 3], { scale: 4 });
  assert.deepEqual(await pngSize(png), { width: 12, height: 8, channels: 3 });
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => Array.from(data.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3));
  assert.deepEqual(px(3, 3), [255, 0, 0]); // still inside the top-left 4×4 block: no blending
  assert.deepEqual(px(4, 3), [0, 0, 0]);
  assert.deepEqual(px(11, 7), [0, 0, 255]);
  assert.deepEqual(await pngSize(await toPng(new Float32Array(6).fill(0.5), { height: 2, width: 3, channels: 1 })), {
    width: 3,
    height: 2,
    channels: 1,
  });
});

test("toPng rejects wrong lengths, bad scales and non-finite pixels", async () => {
  await assert.rejects(toPng(new Float32Array(5), [2, 3, 1]), /5 values but 2×3×1 needs 6/);
  await assert.rejects(toPng(new Float32Array(6), [2, 3, 1], { scale: 1.5 }), /scale must be a positive integer/);
  await assert.rejects(toPng(Float32Array.from([0, 0, NaN, 0, 0, 0]), [2, 3, 1]), /value 2 is NaN/);
  await assert.rejects(toPng(new Float32Array(8), [2, 2, 2]), /channels must be 1 or 3/);
});

test("heatColour runs dark → bright and clips", () => {
  assert.deepEqual(heatColour(0), [0, 0, 4]);
  assert.deepEqual(heatColour(1), [252, 255, 164]);
  assert.deepEqual(heatColour(7), heatColour(1));
  assert.deepEqual(heatColour(-1), heatColour(0));
  const brightness = [0, 0.25, 0.5, 0.75, 1].map((t) => heatColour(t).reduce((a, b) => a + b));
  brightness.slice(1).forEach((b, i) => assert.ok(b > brightness[i], `brighter at step ${i + 1}`));
});

test("errorMapPng: right size, a shared max fixes the colours, bad input is an error", async () => {
  const map = Float32Array.from([0, 0.01, 0.02, 0.04, 0, 0]);
  const png = await errorMapPng(map, 2, 3, { scale: 5, max: 0.02 });
  assert.deepEqual(await pngSize(png), { width: 15, height: 10, channels: 3 });
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => Array.from(data.subarray((y * 15 + x) * 3, (y * 15 + x) * 3 + 3));
  assert.deepEqual(px(0, 0), heatColour(0));
  assert.deepEqual(px(5, 0), heatColour(0.5));
  assert.deepEqual(px(10, 0), heatColour(1));
  assert.deepEqual(px(0, 5), heatColour(1)); // 0.04 > max: clipped to the brightest colour
  await assert.rejects(errorMapPng(map, 2, 2), /6 values but 2×2 needs 4/);
  await assert.rejects(errorMapPng(map, 2, 3, { max: 0 }), /max must be a positive finite number/);
});

test("pngGrid: columns as wide as their widest tile, rows as tall as their tallest, null cells empty", async () => {
  const a = await toPng(new Float32Array(2 * 3 * 3).fill(1), [2, 3, 3], { scale: 2 }); // 6 wide, 4 tall, white
  const b = await toPng(new Float32Array(5 * 4 * 3), [5, 4, 3]); // 4 wide, 5 tall, black
  const grid = await pngGrid([[a, null, b], [b]], { gap: 2, background: "#ff0000" });
  // columns 6 (a, b), 0 (spacer), 4 (b); rows 5, 5: width 2 + 8 + 2 + 6 = 18, height 2 + 7 + 7 = 16
  assert.deepEqual(await pngSize(grid), { width: 18, height: 16, channels: 3 });
  const { data } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => Array.from(data.subarray((y * 18 + x) * 3, (y * 18 + x) * 3 + 3));
  assert.deepEqual(px(2, 2), [255, 255, 255]); // a at (2, 2)
  assert.deepEqual(px(12, 2), [0, 0, 0]); // b in column 3 at x = 2 + 6 + 2 + 0 + 2 = 12
  assert.deepEqual(px(2, 9), [0, 0, 0]); // b in row 2 at y = 2 + 5 + 2 = 9
  assert.deepEqual(px(7, 9), [255, 0, 0]); // right of the 4-wide b: background
  await assert.rejects(pngGrid([]), /no tiles/);
  await assert.rejects(pngGrid([[null]]), /every tile is empty/);
  await assert.rejects(pngGrid([[a]], { gap: -1 }), /gap/);
});

test("pickExamples interleaves evenly spread normals and spills", () => {
  const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
  assert.deepEqual(pickExamples(labels, 2), [1, 7, 4, 9]); // the middle of each half of each class
  assert.deepEqual(pickExamples(labels, 9), [0, 6, 2, 7, 3, 8, 5, 9]); // limited by the 4 spills
  assert.throws(() => pickExamples([0, 0], 2), /need both classes/);
  assert.throws(() => pickExamples([0, 3], 2), /labels\[1\] is 3/);
  assert.throws(() => pickExamples([0, 1], 0), /perClass/);
});

test("selectImages, reconstructionExamples and reconstructionTiles", async () => {
  const shape: [number, number, number] = [2, 2, 1];
  const data = Float32Array.from({ length: 12 }, (_, i) => i / 12);
  const picked = selectImages(data, [2, 0], shape);
  assert.deepEqual(Array.from(picked), [...Array.from(data.subarray(8, 12)), ...Array.from(data.subarray(0, 4))]);
  assert.throws(() => selectImages(data, [3], shape), /index 3 is outside the batch of 3 images/);
  const recon = picked.map((v, i) => (i === 0 ? v + 0.5 : v));
  const ex = reconstructionExamples(picked, recon, [1, 0], shape);
  assert.equal(ex.length, 2);
  assert.equal(ex[0].label, 1);
  assert.ok(Math.abs(ex[0].mse - 0.25 / 4) < 1e-7);
  assert.ok(Math.abs(ex[0].errorMap[0] - 0.25) < 1e-7);
  assert.equal(ex[1].mse, 0);
  assert.throws(() => reconstructionExamples(picked, recon, [1], shape), /8 values for 1 labels/);
  const { tiles, max } = await reconstructionTiles(ex, shape, { scale: 3, percentile: 100 });
  assert.ok(Math.abs(max - 0.25) < 1e-7, "percentile 100 = the largest error among the examples");
  assert.deepEqual(await pngSize(tiles[1].error), { width: 6, height: 6, channels: 3 });
  assert.deepEqual(await pngSize(tiles[0].input), { width: 6, height: 6, channels: 1 });
  // default: the 99th percentile of the 8 pooled pixel errors [0 ×7, 0.25] = 0.93 · 0.25 (linear interpolation)
  assert.ok(Math.abs((await reconstructionTiles(ex, shape)).max - 0.93 * 0.25) < 1e-7);
  assert.equal((await reconstructionTiles(ex, shape, { max: 0.5 })).max, 0.5);
  // perfect reconstructions: the scale falls back to 1 rather than dividing by zero
  assert.equal((await reconstructionTiles([ex[1]], shape)).max, 1);
  await assert.rejects(reconstructionTiles([], shape), /no examples/);
});

test("evaluationCharts: finds labelled scores (the test set first) and the threshold above them", () => {
  const json = {
    score: "maxSmoothed",
    threshold: { strategy: "maxF1", threshold: 0.5 },
    validation: { labels: [0, 1], scores: [0.1, 0.9] },
    results: { test: { labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8] } },
  };
  const figs = evaluationCharts(json);
  assert.equal(figs.source, "results.test");
  assert.deepEqual(
    figs.charts.map((c) => c.name),
    ["roc", "pr", "score-histogram", "metrics-vs-threshold"],
  );
  const hist = figs.charts[2].spec;
  assert.deepEqual(hist.traces[1].x, [0.35, 0.8]);
  assert.equal((hist.options.layout!.shapes as { x0: number }[])[0].x0, 0.5);
  assert.equal((hist.options.layout!.xaxis as { title: { text: string } }).title.text, "maxSmoothed");
  assert.match(String(figs.charts[0].spec.traces[0].name), /AUROC 0\.7500/);
  roundTrips(figs.charts.map((c) => c.spec));
});

test("evaluationCharts: titles name the report part when the evaluation holds one", () => {
  const test = { labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8] };
  const title = (json: unknown) => String(evaluationCharts(json).charts[0].spec.options.title);
  assert.match(title({ testPart: "report part", primaryScores: { test } }), /report part of the test set/);
  assert.doesNotMatch(title({ primaryScores: { test } }), /report part/);
});

test("evaluationCharts: ready-made curves with JSON nulls, and a clear error for anything else", () => {
  const figs = evaluationCharts({
    test: { auroc: 0.9, roc: { fpr: [0, 0.5, 1], tpr: [0, 1, 1], thresholds: [0.9, 0.5, null] } },
  });
  assert.equal(figs.source, "test");
  assert.deepEqual(
    figs.charts.map((c) => c.name),
    ["roc"],
  );
  assert.deepEqual(figs.charts[0].spec.traces[0].customdata, [0.9, 0.5, null]);
  assert.throws(() => evaluationCharts({ metrics: { f1: 0.5 }, note: "x" }), /top-level keys: metrics, note/);
  assert.throws(() => evaluationCharts({ labels: [0, 2], scores: [1, 2] }), /no labelled scores/);
  assert.throws(() => evaluationCharts([1, 2]), /an array/);
});

test("evaluationCharts: per-score entries with x/y curves and binned counts pick the primary score's test set and strategy", () => {
  const entry = (score: string, auroc: number) => ({
    score,
    validation: {
      auroc: 1,
      roc: { x: [0, 1], y: [0, 1], thresholds: [1, null] },
      strategies: [{ id: "p95", threshold: 0.111 }],
    },
    test: {
      auroc,
      averagePrecision: 0.3,
      strategies: [
        { id: "f1", threshold: 0.9 },
        { id: "p95", threshold: 0.004 },
      ],
      roc: { x: [0, 0.2, 1], y: [0, 0.7, 1], thresholds: [0.01, 0.004, null] },
      pr: { x: [0, 0.7, 1], y: [1, 0.4, 0.1], thresholds: [0.01, 0.004, null] },
      histogram: { edges: [0.001, 0.003, 0.005], normal: [30, 10], spill: [1, 3] },
    },
  });
  const json = { primary: { score: "ssim", strategy: "p95" }, scores: [entry("mse", 0.9), entry("ssim", 0.8)] };
  const figs = evaluationCharts(json);
  assert.equal(figs.source, "scores[1].test");
  assert.deepEqual(
    figs.charts.map((c) => c.name),
    ["roc", "pr", "score-histogram"],
  );
  assert.match(String(figs.charts[0].spec.traces[0].name), /AUROC 0\.8000/);
  assert.match(String(figs.charts[0].spec.options.title), /test set, score ssim/);
  assert.deepEqual(figs.charts[1].spec.traces[0].x, [0, 0.7, 1]);
  const hist = figs.charts[2].spec;
  assert.equal((hist.options.layout!.shapes as { x0: number }[])[0].x0, 0.004, "the primary strategy's test threshold");
  assert.deepEqual(hist.traces[1].y, [0.25, 0.75]);
  roundTrips(figs.charts.map((c) => c.spec));
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
