/**
 * The evaluation file (reports/evaluation.json): the one module that writes it (notebook 04) and reads it back
 * (`npm run charts`, which redraws the README figures from it without the model or the data).
 *
 *   writeEvaluation("../reports/evaluation.json", report);   // atomically; checks the report's shape first
 *   const figures = evaluationCharts(JSON.parse(fs.readFileSync("reports/evaluation.json", "utf8")));
 */
import { writeFileAtomic } from "../common/atomic";
import {
  auroc,
  averagePrecision,
  metricsVsThreshold,
  prCurve,
  rocCurve,
  type PrCurve,
  type RocCurve,
} from "../detector/metrics";
import { choiceById, type ScoreEvaluation, type TestAnalysis, type ThresholdAnalysis } from "../detector";
import { type ReferenceResult, SEED_RESULTS } from "./references";
import {
  type BinnedScores,
  binnedScoreHistogram,
  type ChartSpec,
  metricsVsThresholdChart,
  prChart,
  rocChart,
  scoreHistogram,
} from "./charts";

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
   * draws its ROC, PR, histogram and metrics-against-threshold figures from these (lib/charts evaluationCharts).
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
 * Write the report as JSON atomically (a reader never sees half a file); NaN and ±Infinity become null, as JSON has
 * no such numbers. Checks that the primary score and strategy are in it. `writeEvaluation("../reports/evaluation.json", report)`.
 */
export function writeEvaluation(path: string, report: EvaluationReport): void {
  if (!report || !Array.isArray(report.scores) || report.scores.length === 0)
    throw new Error(`writeEvaluation(${path}): the report has no scores`);
  const primary = report.scores.find((s) => s.score === report.primary?.score);
  if (!primary)
    throw new Error(
      `writeEvaluation(${path}): primary score "${report.primary?.score}" is not among ${report.scores.map((s) => s.score).join(", ")}`,
    );
  choiceById(primary.validation.choices, report.primary.strategy);
  for (const set of ["validation", "test"] as const) {
    const p = report.primaryScores?.[set];
    if (!p || !Array.isArray(p.labels) || !Array.isArray(p.scores) || p.labels.length !== p.scores.length)
      throw new Error(`writeEvaluation(${path}): primaryScores.${set} needs equally long labels and scores`);
  }
  writeFileAtomic(path, `${JSON.stringify(report, null, 1)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation files

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumberArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x));
/** A curve array as JSON stores it: numbers, with null where the value was ±Infinity or NaN. */
const isCurveArray = (v: unknown): v is (number | null)[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => x === null || typeof x === "number");
const isLabels = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => x === 0 || x === 1);
const nullToNaN = (a: (number | null)[]) => a.map((x) => (x === null ? NaN : x));

/** A threshold stored as a number, or as { threshold } / { value }. */
function thresholdOf(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (isObject(v)) return thresholdOf(v.threshold) ?? thresholdOf(v.value);
  return undefined;
}

interface Found {
  path: string;
  node: Json;
  /** Enclosing objects, outermost first. */
  ancestors: Json[];
}

/** Every object in a JSON tree (arrays of objects included), depth-limited, with its path and ancestors. */
function objectsIn(root: unknown, maxDepth = 6): Found[] {
  const out: Found[] = [];
  const walk = (v: unknown, path: string, ancestors: Json[], depth: number) => {
    if (depth > maxDepth) return;
    if (Array.isArray(v)) {
      v.slice(0, 50).forEach((x, i) => isObject(x) && walk(x, `${path}[${i}]`, ancestors, depth + 1));
      return;
    }
    if (!isObject(v)) return;
    out.push({ path: path || "(top level)", node: v, ancestors });
    for (const [k, x] of Object.entries(v))
      if (typeof x === "object" && x !== null) walk(x, path ? `${path}.${k}` : k, [...ancestors, v], depth + 1);
  };
  walk(root, "", [], 0);
  return out;
}

/** A ROC curve stored as { fpr, tpr } or { x, y } (+ optional thresholds, nulls for -Infinity). */
function rocFromJson(v: unknown): RocCurve | undefined {
  if (!isObject(v)) return undefined;
  const [x, y] = [v.fpr ?? v.x, v.tpr ?? v.y];
  if (!isCurveArray(x) || !isCurveArray(y) || x.length !== y.length) return undefined;
  return {
    fpr: nullToNaN(x),
    tpr: nullToNaN(y),
    thresholds:
      isCurveArray(v.thresholds) && v.thresholds.length === x.length ? nullToNaN(v.thresholds) : x.map(() => NaN),
  };
}

/** A PR curve stored as { recall, precision } or { x: recall, y: precision } (+ optional thresholds). */
function prFromJson(v: unknown): PrCurve | undefined {
  if (!isObject(v)) return undefined;
  const [x, y] = [v.recall ?? v.x, v.precision ?? v.y];
  if (!isCurveArray(x) || !isCurveArray(y) || x.length !== y.length) return undefined;
  return {
    recall: nullToNaN(x),
    precision: nullToNaN(y),
    thresholds:
      isCurveArray(v.thresholds) && v.thresholds.length === x.length ? nullToNaN(v.thresholds) : x.map(() => NaN),
  };
}

/** A histogram stored as { edges: n + 1 numbers, normal: n counts, spill: n counts }. */
function histogramFromJson(v: unknown): BinnedScores | undefined {
  if (!isObject(v) || !isNumberArray(v.edges) || !isNumberArray(v.normal) || !isNumberArray(v.spill)) return undefined;
  if (v.normal.length !== v.edges.length - 1 || v.spill.length !== v.normal.length) return undefined;
  return { edges: v.edges, normal: v.normal, spill: v.spill };
}

export interface EvaluationFigures {
  /** Where in the JSON the data came from, e.g. "scores[0].test". */
  source: string;
  charts: { name: string; spec: ChartSpec }[];
}

/**
 * Charts from an evaluation JSON whose exact layout this module does not own (notebook 04 writes it), found by shape.
 *   - Labelled scores, an object with equally long `labels` (0/1) and `scores` (numbers), give ROC, PR, histogram and
 *     metrics-vs-threshold charts.
 *   - Otherwise an object holding ready-made `roc` ({ fpr, tpr } or { x, y }), `pr` ({ recall, precision } or
 *     { x, y }) and/or `histogram` ({ edges, normal, spill } counts) gives those charts.
 * Among several candidates it prefers the test set (a path naming "test") of the primary score (`primary.score` or a
 * top-level `score`). The threshold line is the primary strategy's threshold (an object under the candidate whose `id`
 * or `strategy` equals `primary.strategy`), else the nearest `threshold` on the candidate or an enclosing object.
 * Anything else is an error that lists the top-level keys.
 *   evaluationCharts(JSON.parse(fs.readFileSync("reports/evaluation.json", "utf8"))).charts.map((c) => c.name)
 */
export function evaluationCharts(json: unknown): EvaluationFigures {
  const all = objectsIn(json);
  const root = isObject(json) ? json : {};
  const primary = isObject(root.primary) ? root.primary : root;
  const primaryScore = typeof primary.score === "string" ? primary.score : undefined;
  const primaryStrategy = typeof primary.strategy === "string" ? primary.strategy : undefined;
  const chain = (f: Found) => [f.node, ...[...f.ancestors].reverse()]; // nearest first
  const rank = (f: Found) =>
    (/test/i.test(f.path) ? 2 : 0) +
    (primaryScore !== undefined && chain(f).some((o) => o.score === primaryScore) ? 1 : 0);
  const best = (found: Found[]) => found.reduce((a, b) => (rank(b) > rank(a) ? b : a));

  const thresholdFor = (f: Found): number | undefined => {
    if (primaryStrategy !== undefined)
      for (const o of chain(f)) {
        const hit = objectsIn(o, 3).find(
          ({ node }) =>
            (node.id === primaryStrategy || node.strategy === primaryStrategy) &&
            thresholdOf(node.threshold) !== undefined,
        );
        if (hit) return thresholdOf(hit.node.threshold);
      }
    return chain(f)
      .map((o) => thresholdOf(o.threshold))
      .find((t) => t !== undefined);
  };
  const describe = (f: Found) => {
    const testSet =
      typeof root.testPart === "string" && !/wholeTest/.test(f.path) ? "report part of the test set" : "test set";
    const set = /test/i.test(f.path) ? testSet : /valid/i.test(f.path) ? "validation set" : f.path;
    const score =
      primaryScore ??
      chain(f)
        .map((o) => o.score ?? o.scoreName)
        .find((v): v is string => typeof v === "string");
    return { title: (what: string) => `${what} — ${set}${score ? `, score ${score}` : ""}`, score };
  };

  const labelled = all.filter(
    ({ node }) => isLabels(node.labels) && isNumberArray(node.scores) && node.labels.length === node.scores.length,
  );
  if (labelled.length > 0) {
    const pick = best(labelled);
    const labels = pick.node.labels as number[];
    const scores = pick.node.scores as number[];
    const threshold = thresholdFor(pick);
    const { title, score } = describe(pick);
    const charts: { name: string; spec: ChartSpec }[] = [];
    const both = labels.includes(0) && labels.includes(1);
    if (both) {
      charts.push({
        name: "roc",
        spec: rocChart(rocCurve(labels, scores), { auroc: auroc(labels, scores), title: title("ROC curve") }),
      });
      charts.push({
        name: "pr",
        spec: prChart(prCurve(labels, scores), {
          averagePrecision: averagePrecision(labels, scores),
          title: title("Precision–recall curve"),
        }),
      });
    }
    charts.push({
      name: "score-histogram",
      spec: scoreHistogram(scores, labels, threshold, { scoreName: score, title: title("Anomaly scores by class") }),
    });
    if (both) {
      // At most ~300 thresholds, evenly spaced over the sorted distinct scores: enough for a smooth line.
      const distinct = [...new Set(scores)].sort((a, b) => a - b);
      const step = Math.max(1, Math.floor(distinct.length / 300));
      const grid = distinct.filter((_, i) => i % step === 0);
      charts.push({
        name: "metrics-vs-threshold",
        spec: metricsVsThresholdChart(metricsVsThreshold(labels, scores, grid), {
          threshold,
          scoreName: score,
          title: title("Metrics against the threshold"),
        }),
      });
    }
    return { source: pick.path, charts };
  }

  const withCurves = all.filter(
    ({ node }) => rocFromJson(node.roc) || prFromJson(node.pr) || histogramFromJson(node.histogram),
  );
  if (withCurves.length > 0) {
    const pick = best(withCurves);
    const { node } = pick;
    const { title, score } = describe(pick);
    const number = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
    const charts: { name: string; spec: ChartSpec }[] = [];
    const roc = rocFromJson(node.roc);
    if (roc)
      charts.push({ name: "roc", spec: rocChart(roc, { auroc: number(node.auroc), title: title("ROC curve") }) });
    const pr = prFromJson(node.pr);
    if (pr)
      charts.push({
        name: "pr",
        spec: prChart(pr, { averagePrecision: number(node.averagePrecision), title: title("Precision–recall curve") }),
      });
    const hist = histogramFromJson(node.histogram);
    if (hist)
      charts.push({
        name: "score-histogram",
        spec: binnedScoreHistogram(hist, thresholdFor(pick), {
          scoreName: score,
          title: title("Anomaly scores by class"),
        }),
      });
    return { source: pick.path, charts };
  }
  const keys = isObject(json)
    ? Object.keys(json).join(", ") || "none"
    : Array.isArray(json)
      ? "(an array)"
      : typeof json;
  throw new Error(
    `no labelled scores ({ labels, scores }) and no roc / pr / histogram found (top-level keys: ${keys})`,
  );
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
  const validationSpills = Array.from(analysis.validation.labels).filter((l) => l === 1).length;
  return {
    createdAt: new Date().toISOString(),
    model: { dir: p.modelDir, metadata: p.metadata },
    primary: { score, strategy },
    counts: {
      validation: { normals: analysis.validation.labels.length - validationSpills, spills: validationSpills },
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
