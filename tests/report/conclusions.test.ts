import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scoreEvaluation } from "../../lib/detector/evaluate";
import { chooseThresholds, poolChoice } from "../../lib/detector/thresholds";
import { conclusions } from "../../lib/report/conclusions";
import { type EvaluationReport, writeEvaluation } from "../../lib/report/evaluation-file";
import { SEED_RESULTS } from "../../lib/report/references";
import { F1, P90, TL, TS, VL, VS, close } from "../helpers/thresholds";

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
