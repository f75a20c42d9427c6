import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluationCharts } from "../../lib/report/evaluation-file";

/** Everything a trace or layout would send to plotly is JSON: no NaN/Infinity may hide in it. */
const roundTrips = (v: unknown) => assert.deepEqual(JSON.parse(JSON.stringify(v)), v);

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

test(
  "evaluationCharts: per-score entries with x/y curves and binned counts " +
    "pick the primary score's test set and strategy",
  () => {
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
    assert.equal(
      (hist.options.layout!.shapes as { x0: number }[])[0].x0,
      0.004,
      "the primary strategy's test threshold",
    );
    assert.deepEqual(hist.traces[1].y, [0.25, 0.75]);
    roundTrips(figs.charts.map((c) => c.spec));
  },
);
