import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import {
  checkedPoolChoice,
  chooseThresholds,
  type DetectorScore,
  partIndices,
  testAnalysis,
  type ThresholdAnalysis,
  type WellItem,
} from "../../lib/detector";
import {
  classCounts,
  evaluationReport,
  ourResults,
  poolValidationTable,
  scoreShiftTable,
  shortName,
  strategyByScoreTable,
  testScoresTable,
  validationScoreTable,
  writeEvaluation,
} from "../../lib/report";

// Validation: 6 normals (label 0) and 3 spills; "mse" separates them perfectly, "density" only partly.
const labels = Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1]);
const val = {
  mse: Float32Array.from([0.1, 0.2, 0.3, 0.15, 0.25, 0.35, 0.9, 0.8, 0.7]),
  density: Float32Array.from([0.1, 0.6, 0.3, 0.15, 0.25, 0.35, 0.9, 0.5, 0.7]),
} as Record<DetectorScore, Float32Array>;
const SCORES = ["mse", "density"] as DetectorScore[];
const select = [0.1, 0.2, 0.3, 0.2, 0.25, 0.3, 0.15, 0.35, 0.22, 0.5];
const analysis: ThresholdAnalysis = {
  scores: SCORES,
  primary: "mse",
  validation: { labels, scores: val },
  choices: Object.fromEntries(
    SCORES.map((s) => [s, [...chooseThresholds(labels, val[s]), checkedPoolChoice(select, val[s].slice(0, 6))]]),
  ) as ThresholdAnalysis["choices"],
};

// Test items whose hashes put them in every pool part (the part is the first 8 hex digits mod 3).
const items: WellItem[] = Array.from({ length: 12 }, (_, i) => ({
  file: `/data/test/well-${String(i).padStart(3, "0")}-long-name.png`,
  label: (i % 4 === 0 ? 1 : 0) as 0 | 1,
  hash: i.toString(16).padStart(8, "0") + "0".repeat(32),
}));
const testLabels = Uint8Array.from(items.map((it) => it.label));
const testScores = {
  mse: Float32Array.from(items.map((it, i) => (it.label ? 0.8 : 0.1) + i / 100)),
  density: Float32Array.from(items.map((it, i) => (it.label ? 0.4 : 0.3) + i / 100)),
} as Record<DetectorScore, Float32Array>;

test("validation, pool and strategy tables: one row per score, the columns named", () => {
  const v = validationScoreTable(analysis);
  assert.deepEqual(v.columns, ["score", "validation AUROC", "validation AP"]);
  assert.deepEqual(v.rows[0], ["mse", 1, 1]);
  assert.ok((v.rows[1][1] as number) < 1, "density ranks one normal above a spill");
  const rows = [
    {
      score: "mse" as DetectorScore,
      aurocProliv: 0.9,
      aurocSynthetic: 0.8,
      aurocByKind: { blur: 0.4, speckle: 0.95 },
      tprSyntheticAtP975: 0.5,
      tprProlivAtP975: 0.6,
      selection: 0.85,
    },
  ];
  const p = poolValidationTable(rows);
  assert.deepEqual(p.columns, ["score", "proliv vs pool", "synthetic on pool", "blur", "speckle", "selection value"]);
  assert.deepEqual(p.rows, [["mse", 0.9, 0.8, 0.4, 0.95, 0.85]]);
  assert.throws(() => poolValidationTable([]), /no rows/);
  const s = strategyByScoreTable(analysis, "maxF1");
  assert.equal(s.rows.length, 2);
  assert.equal(s.rows[0][0], "mse");
  assert.deepEqual(s.rows[0].slice(2), [1, 1, 1], "mse's best-F1 threshold separates validation perfectly");
  assert.throws(() => strategyByScoreTable(analysis, "p42"), /p42/);
});

test(
  "testAnalysis + testScoresTable: the report part is the pool's report items, " + "measured at the chosen thresholds",
  () => {
    const t = testAnalysis(analysis, testLabels, testScores, items);
    assert.deepEqual(t.report.indices, partIndices(items, "report"));
    assert.deepEqual(
      t.report.labels,
      t.report.indices.map((i) => testLabels[i]),
    );
    assert.deepEqual(
      Array.from(t.report.scores.mse),
      Array.from(t.report.indices, (i) => testScores.mse[i]),
    );
    assert.equal(t.evaluations.length, 2);
    assert.equal(t.wholeEvaluations[0].test.positives + t.wholeEvaluations[0].test.negatives, 12);
    const table = testScoresTable(t, "maxF1");
    assert.equal(table.columns[4], "report TPR (maxF1)");
    assert.equal(table.rows[0][0], "mse");
    assert.equal(table.rows[0][6], 1, "mse ranks every test spill above every normal");
    const ours = ourResults(t.evaluations[0], "pool5");
    assert.equal(ours.length, analysis.choices.mse.length);
    assert.match(ours.find((r) => r.source.includes("pool5"))!.source, /mse, pool5 \(primary\), report part/);
  },
);

test("evaluationReport: the file notebook 04 writes, from the analyses, and writeEvaluation accepts it", () => {
  const t = testAnalysis(analysis, testLabels, testScores, items);
  const report = evaluationReport({ modelDir: "models/x", metadata: { epoch: 3 }, analysis, test: t, strategy: "p99" });
  assert.deepEqual(report.primary, { score: "mse", strategy: "p99" });
  assert.deepEqual(report.counts.validation, { normals: 6, spills: 3 });
  assert.equal(report.counts.test.normals + report.counts.test.spills, t.report.labels.length);
  assert.match(report.testPart!, /all 12 test images/);
  assert.equal(report.primaryScores.test.threshold, analysis.choices.mse.find((c) => c.id === "p99")!.threshold);
  assert.deepEqual(report.primaryScores.validation.scores, Array.from(val.mse));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "evaluation-"));
  writeEvaluation(path.join(dir, "evaluation.json"), report);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "evaluation.json"), "utf8")).primary.score, "mse");
  fs.rmSync(dir, { recursive: true });
  assert.throws(
    () =>
      evaluationReport({
        modelDir: "m",
        metadata: {},
        analysis: { ...analysis, primary: "ssim" },
        test: t,
        strategy: "p99",
      }),
    /no score ssim/,
  );
});

test("small helpers: classCounts, shortName, scoreShiftTable", () => {
  assert.deepEqual(classCounts([0, 1, 1, 0, 0]), { normals: 3, spills: 2 });
  assert.equal(shortName("/a/b/0123456789abcdef.png"), "0123456789abc…");
  assert.equal(shortName("/a/b/short.png"), "short");
  const t = scoreShiftTable([{ quantile: 50, heldOut: 1, deployment: 2, ratio: 2 }]);
  assert.deepEqual(t.rows, [[50, 1, 2, 2]]);
});
