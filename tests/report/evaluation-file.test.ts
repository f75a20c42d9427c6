import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { chooseThresholds, scoreEvaluation } from "../../lib/detector";
import {
  checkEvaluation,
  type EvaluationReport,
  evaluationCharts,
  readEvaluation,
  SEED_RESULTS,
  writeEvaluation,
} from "../../lib/report";

/** Everything a trace or layout would send to plotly is JSON: no NaN/Infinity may hide in it. */
const roundTrips = (v: unknown) => assert.deepEqual(JSON.parse(JSON.stringify(v)), v);

const VL = [0, 0, 0, 0, 1, 1];
const VS = { mse: [0.1, 0.2, 0.3, 0.25, 0.9, 0.6], ssim: [0.2, 0.1, 0.4, 0.3, 0.5, 0.8] };
const TL = [0, 0, 1, 1];
const TS = { mse: [0.1, 0.4, 0.35, 0.8], ssim: [0.3, 0.2, 0.6, 0.7] };

/** A small report as notebook 04 writes it (primary score ssim, strategy maxF1). */
function report(testPart?: string): EvaluationReport {
  const scores = (["mse", "ssim"] as const).map((s) =>
    scoreEvaluation(s, VL, VS[s], chooseThresholds(VL, VS[s]), TL, TS[s]),
  );
  const threshold = scores[1].validation.choices.find((c) => c.id === "maxF1")!.threshold;
  return {
    createdAt: "2026-12-01T00:00:00.000Z",
    model: { dir: "models/x", metadata: {} },
    primary: { score: "ssim", strategy: "maxF1" },
    counts: { validation: { normals: 4, spills: 2 }, test: { normals: 2, spills: 2 } },
    scores,
    primaryScores: {
      validation: { score: "ssim", threshold, labels: VL, scores: VS.ssim },
      test: { score: "ssim", threshold, labels: TL, scores: TS.ssim },
    },
    references: SEED_RESULTS,
    ...(testPart ? { testPart } : {}),
  };
}

test("evaluationCharts: the primary score's labelled test scores, with the primary threshold", () => {
  const r = report();
  const figs = evaluationCharts(r);
  assert.equal(figs.source, "primaryScores.test");
  assert.deepEqual(
    figs.charts.map((c) => c.name),
    ["roc", "pr", "score-histogram", "metrics-vs-threshold", "roc-scores"],
  );
  const hist = figs.charts[2].spec;
  assert.deepEqual(hist.traces[1].x, [0.6, 0.7], "the spills' test scores");
  assert.equal((hist.options.layout!.shapes as { x0: number }[])[0].x0, r.primaryScores.test.threshold);
  assert.equal((hist.options.layout!.xaxis as { title: { text: string } }).title.text, "ssim");
  assert.match(String(figs.charts[0].spec.traces[0].name), /AUROC 1\.0000/);
  roundTrips(figs.charts.map((c) => c.spec));
});

test("evaluationCharts: titles name the report part when the evaluation holds one", () => {
  const title = (r: EvaluationReport) => String(evaluationCharts(r).charts[0].spec.options.title);
  assert.match(title(report("report part")), /report part of the test set, score ssim/);
  assert.doesNotMatch(title(report()), /report part/);
});

test("evaluationCharts: roc-scores from every score's stored test ROC, JSON nulls as gaps", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "evaluation-"));
  const file = path.join(dir, "evaluation.json");
  writeEvaluation(file, report());
  const read = readEvaluation(file);
  assert.equal(read.scores[0].test.roc.thresholds.at(-1), null, "-Infinity is stored as null");
  const rocs = evaluationCharts(read).charts.find((c) => c.name === "roc-scores")!.spec;
  assert.deepEqual(
    rocs.traces.slice(0, 2).map((t) => t.name),
    ["mse (0.7500)", "ssim (1.0000)"],
  );
  roundTrips(rocs);
  fs.rmSync(dir, { recursive: true });
});

test("readEvaluation and checkEvaluation: each problem of the file is named with the file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "evaluation-"));
  const file = path.join(dir, "e.json");
  assert.throws(() => readEvaluation(file), /e\.json: no such file \(notebook 04 writes it\)/);
  fs.writeFileSync(file, "{ half");
  assert.throws(() => readEvaluation(file), /e\.json: not JSON/);
  fs.rmSync(dir, { recursive: true });
  const ok = report();
  assert.throws(() => checkEvaluation([1, 2], "f"), /f: not a JSON object/);
  assert.throws(() => checkEvaluation({ ...ok, scores: [] }, "f"), /f: the report has no scores/);
  assert.throws(() => checkEvaluation({ ...ok, primary: undefined }, "f"), /no primary \{ score, strategy \}/);
  assert.throws(
    () => checkEvaluation({ ...ok, primary: { score: "maxSmoothed", strategy: "maxF1" } }, "f"),
    /primary score "maxSmoothed" is not among mse, ssim/,
  );
  assert.throws(() => checkEvaluation({ ...ok, primary: { score: "ssim", strategy: "p42" } }, "f"), /p42/);
  const short = { ...ok.primaryScores.test, labels: [0, 1] };
  assert.throws(
    () => checkEvaluation({ ...ok, primaryScores: { ...ok.primaryScores, test: short } }, "f"),
    /primaryScores\.test needs equally long labels and scores/,
  );
});
