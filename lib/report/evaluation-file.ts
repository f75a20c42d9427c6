/**
 * The evaluation file (reports/evaluation.json): the one module that writes it (notebook 04) and reads it back
 * (`npm run charts`, which redraws the README figures from it without the model or the data).
 *
 *   writeEvaluation("../reports/evaluation.json", report);   // atomically; checks the report's shape first
 *   const figures = evaluationCharts(readEvaluation("reports/evaluation.json"));
 */
import { writeFileAtomic } from "../common/atomic";
import * as fs from "node:fs";
import { auroc, averagePrecision, metricsVsThreshold, prCurve, rocCurve } from "../detector/metrics";
import { choiceById, type ScoreEvaluation, type TestAnalysis, type ThresholdAnalysis } from "../detector";
import { type ReferenceResult, SEED_RESULTS } from "./references";
import { classCounts } from "./threshold-analysis";
import { type ChartSpec, metricsVsThresholdChart, prChart, rocChart, rocCurvesChart, scoreHistogram } from "./charts";

/** The file `npm run charts` reads (reports/evaluation.json). */
export interface EvaluationReport {
  createdAt: string;
  /** The model folder, as the notebook named it, and its metadata. */
  model: { dir: string; metadata: Record<string, unknown> };
  /** The score and strategy the headline figures use. */
  primary: { score: string; strategy: string };
  counts: { validation: { normals: number; spills: number }; test: { normals: number; spills: number } };
  scores: ScoreEvaluation[];
  /**
   * The primary score of every validation and test image with its label, and the primary threshold: `npm run charts`
   * draws its ROC, PR, histogram and metrics-against-threshold figures from these (evaluationCharts).
   */
  primaryScores: { validation: LabelledScores; test: LabelledScores };
  references: readonly ReferenceResult[];
  /** Which images `scores[].test` and `primaryScores.test` hold, when not the whole test set. */
  testPart?: string;
  /** The same evaluation on the whole test set, when `scores` hold a part of it. */
  wholeTest?: ScoreEvaluation[];
}

export interface LabelledScores {
  score: string;
  threshold: number | null;
  labels: number[];
  scores: number[];
}

/**
 * A parsed evaluation file checked against `EvaluationReport`: each missing or malformed part is named with `where`
 * (the file), so `npm run charts` fails with what to fix. Returns the report.
 */
export function checkEvaluation(report: unknown, where: string): EvaluationReport {
  const r = report as EvaluationReport;
  const bad = (what: string) => new Error(`${where}: ${what} (not written by notebook 04's writeEvaluation?)`);
  if (typeof report !== "object" || report === null || Array.isArray(report)) throw bad("not a JSON object");
  if (!Array.isArray(r.scores) || r.scores.length === 0) throw bad("the report has no scores");
  if (typeof r.primary?.score !== "string" || typeof r.primary?.strategy !== "string")
    throw bad("no primary { score, strategy }");
  const primary = r.scores.find((s) => s.score === r.primary.score);
  if (!primary) throw bad(`primary score "${r.primary.score}" is not among ${r.scores.map((s) => s.score).join(", ")}`);
  choiceById(primary.validation.choices, r.primary.strategy);
  for (const set of ["validation", "test"] as const) {
    const p = r.primaryScores?.[set];
    if (!p || !Array.isArray(p.labels) || !Array.isArray(p.scores) || p.labels.length !== p.scores.length)
      throw bad(`primaryScores.${set} needs equally long labels and scores`);
  }
  return r;
}

/**
 * Write the report as JSON atomically (a reader never sees half a file); NaN and ±Infinity become null, as JSON has
 * no such numbers. Checks it first (`checkEvaluation`). `writeEvaluation("../reports/evaluation.json", report)`.
 */
export function writeEvaluation(path: string, report: EvaluationReport): void {
  checkEvaluation(report, `writeEvaluation(${path})`);
  writeFileAtomic(path, `${JSON.stringify(report, null, 1)}\n`);
}

/** Read and check an evaluation file: `readEvaluation("reports/evaluation.json").primary.score`. */
export function readEvaluation(file: string): EvaluationReport {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file (notebook 04 writes it)`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  return checkEvaluation(json, file);
}

export interface EvaluationFigures {
  /** Which part of the report the labelled charts come from. */
  source: string;
  charts: { name: string; spec: ChartSpec }[];
}

/** A curve array as JSON stores it: numbers, with null where the value was ±Infinity or NaN. */
const nullToNaN = (a: readonly (number | null)[]) => a.map((x) => (x === null ? NaN : x));

/**
 * The README's evaluation charts from an evaluation report: ROC, precision–recall, scores by class and metrics
 * against the threshold of the primary score on the test images the report holds (`primaryScores.test`, with the
 * primary threshold), and, with several scores, every score's stored test ROC in one chart ("roc-scores").
 *   evaluationCharts(readEvaluation("reports/evaluation.json")).charts.map((c) => c.name)
 */
export function evaluationCharts(report: EvaluationReport): EvaluationFigures {
  const { labels, scores, threshold, score } = report.primaryScores.test;
  const set = report.testPart ? "report part of the test set" : "test set";
  const title = (what: string) => `${what} — ${set}, score ${score}`;
  const charts: { name: string; spec: ChartSpec }[] = [];
  const both = labels.includes(0) && labels.includes(1);
  if (both) {
    const roc = rocCurve(labels, scores);
    charts.push({ name: "roc", spec: rocChart(roc, { auroc: auroc(labels, scores), title: title("ROC curve") }) });
    const pr = prCurve(labels, scores);
    const ap = averagePrecision(labels, scores);
    charts.push({ name: "pr", spec: prChart(pr, { averagePrecision: ap, title: title("Precision–recall curve") }) });
  }
  const t = threshold ?? undefined;
  const byClass = scoreHistogram(scores, labels, t, { scoreName: score, title: title("Anomaly scores by class") });
  charts.push({ name: "score-histogram", spec: byClass });
  if (both) {
    // At most ~300 thresholds, evenly spaced over the sorted distinct scores: enough for a smooth line.
    const distinct = [...new Set(scores)].sort((a, b) => a - b);
    const step = Math.max(1, Math.floor(distinct.length / 300));
    const grid = distinct.filter((_, i) => i % step === 0);
    const rates = metricsVsThreshold(labels, scores, grid);
    const spec = metricsVsThresholdChart(rates, {
      threshold: t,
      scoreName: score,
      title: title("Metrics against the threshold"),
    });
    charts.push({ name: "metrics-vs-threshold", spec });
  }
  if (report.scores.length > 1)
    charts.push({
      name: "roc-scores",
      spec: rocCurvesChart(
        report.scores.map((e) => ({
          name: e.score,
          auroc: e.test.auroc,
          roc: {
            fpr: nullToNaN(e.test.roc.fpr),
            tpr: nullToNaN(e.test.roc.tpr),
            thresholds: nullToNaN(e.test.roc.thresholds),
          },
        })),
        { title: `ROC of every score — ${set}` },
      ),
    });
  return { source: "primaryScores.test", charts };
}

/**
 * The evaluation file's content from notebook 04's analysis: every score's validation choices and test figures (the
 * report part, and the whole test set), and the primary score of every image with its label and threshold.
 *   writeEvaluation("../reports/evaluation.json", evaluationReport({ modelDir, metadata, analysis, test, strategy }))
 */
export function evaluationReport(p: {
  modelDir: string;
  metadata: Record<string, unknown>;
  analysis: ThresholdAnalysis;
  test: TestAnalysis;
  strategy: string;
  references?: readonly ReferenceResult[];
}): EvaluationReport {
  const { analysis, test, strategy } = p;
  const score = analysis.primary;
  const primary = test.evaluations.find((e) => e.score === score);
  if (!primary) throw new Error(`evaluationReport: the test analysis has no score ${score}`);
  const threshold = choiceById(analysis.choices[score], strategy).threshold;
  const labelled = (labels: ArrayLike<number>, scores: ArrayLike<number>): LabelledScores => ({
    score,
    threshold,
    labels: Array.from(labels),
    scores: Array.from(scores),
  });
  return {
    createdAt: new Date().toISOString(),
    model: { dir: p.modelDir, metadata: p.metadata },
    primary: { score, strategy },
    counts: {
      validation: classCounts(analysis.validation.labels),
      test: { normals: primary.test.negatives, spills: primary.test.positives },
    },
    scores: test.evaluations,
    testPart:
      "report part of the pool (experiments/PROTOCOL-2.md); " +
      `wholeTest: all ${test.whole.labels.length.toLocaleString("en")} test images`,
    wholeTest: test.wholeEvaluations,
    primaryScores: {
      validation: labelled(analysis.validation.labels, analysis.validation.scores[score]),
      test: labelled(test.report.labels, test.report.scores[score]),
    },
    references: p.references ?? SEED_RESULTS,
  };
}
