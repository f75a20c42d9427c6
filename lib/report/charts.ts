/**
 * Chart specs and images for the spill detector: what notebooks 03/04 show and `npm run charts` saves as PNG.
 *
 * Charts. Every builder returns plain data, `{ traces, options }`: plotly traces plus the ChartOptions of lib/display's
 * `chart()`. Being data, they are testable, and the notebooks and the PNG export draw exactly the same charts:
 * lossCurves, validationCurves (from a run log), scoreHistogram / binnedScoreHistogram, rocChart, prChart,
 * metricsVsThresholdChart (from lib/metrics), and evaluationCharts (all of them from an evaluation JSON).
 * Plotly cannot carry -Infinity or NaN (JSON turns them into null anyway): every number goes through `finiteOrNull`,
 * so the ROC curve's last threshold (-Infinity, "flag everything") becomes an explicit null.
 *
 * Images. toPng turns an HWC Float32Array in [0, 1] (what lib/wells decodes) into PNG bytes with sharp, upscaled with
 * nearest neighbour so that a 32×48 well stays sharp-edged and visible; errorMapPng draws an error map in heat colours
 * on a colour scale that can be shared across examples (then a bright map means a large error, not just "the largest
 * in its image"); pngGrid lays PNGs out for a file. pickExamples → selectImages → reconstructionExamples →
 * reconstructionTiles make the normal-vs-spill reconstruction figures.
 *
 *   import { lossCurves, chartHtml, toPng, errorMapPng } from "../../dist/lib/charts";
 *   tslab.display.html(chartHtml(lossCurves(readRunLog("../runs/notebook"))));
 *   const png = await toPng(image, [32, 48, 3], { scale: 4 });              // 192×128 PNG bytes
 *   const heat = await errorMapPng(map, 32, 48, { scale: 4, max: 0.02 });   // same size, inferno colours
 */
import sharp from "sharp";
import { chart, type ChartOptions } from "./display";
import {
  auroc,
  averagePrecision,
  checkLabelsScores,
  metricsVsThreshold,
  prCurve,
  rocCurve,
  type PrCurve,
  type RocCurve,
  type ThresholdMetrics,
} from "../detector/metrics";
import { errorMap, mseScore, type ImageShape, type ShapeLike } from "../detector/scores";
import { percentile } from "../detector/thresholds";
import type { EpochRecord } from "../detector/train";

/** A plotly chart as data: traces and the options of lib/display's `chart()`. */
export interface ChartSpec {
  traces: Record<string, unknown>[];
  options: ChartOptions;
}

/** The HTML of a spec, for `tslab.display.html(...)`: `chartHtml(lossCurves(history))`. */
export function chartHtml(spec: ChartSpec): string {
  return chart(spec.traces, spec.options);
}

/** A number plotly can draw, or null (a gap / no value) for NaN, ±Infinity, null and undefined. */
export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

const COLOURS = { normal: "#1f77b4", spill: "#d62728", train: "#1f77b4", validation: "#ff7f0e", best: "#2ca02c" };

/** A dashed vertical line across the plot at x, with a label on top (a layout shape + annotation). */
function verticalLine(x: number, label: string): { shapes: object[]; annotations: object[] } {
  return {
    shapes: [
      { type: "line", x0: x, x1: x, yref: "paper", y0: 0, y1: 1, line: { color: "#444", width: 1.5, dash: "dash" } },
    ],
    annotations: [
      { x, yref: "paper", y: 1, text: label, showarrow: false, xanchor: "left", yanchor: "bottom", font: { size: 11 } },
    ],
  };
}

function checkHistory(history: EpochRecord[], what: string): void {
  if (!Array.isArray(history) || history.length === 0)
    throw new Error(`${what}: the run log has no epochs (train first, or check the run folder)`);
}

/** The epoch whose checkpoint is in best/: the last one flagged `best` (each flag marks an improvement). */
function bestRecord(history: EpochRecord[]): EpochRecord | undefined {
  return [...history].reverse().find((r) => r.best);
}

const lineTrace = (name: string, x: number[], y: (number | null)[], color: string) => ({
  type: "scatter",
  mode: "lines+markers",
  name,
  x,
  y,
  line: { color },
});

/**
 * Train loss (mean over the epoch's batches) and validation loss (held-out normals, after the epoch) per epoch on a
 * log y axis, with the best epoch starred: `lossCurves(readRunLog(runDir))`.
 */
export function lossCurves(history: EpochRecord[]): ChartSpec {
  checkHistory(history, "lossCurves");
  const x = history.map((r) => r.epoch);
  const traces: Record<string, unknown>[] = [
    lineTrace(
      "train loss",
      x,
      history.map((r) => finiteOrNull(r.loss)),
      COLOURS.train,
    ),
    lineTrace(
      "validation loss (held-out normals)",
      x,
      history.map((r) => finiteOrNull(r.valLoss)),
      COLOURS.validation,
    ),
  ];
  const best = bestRecord(history);
  if (best)
    traces.push({
      type: "scatter",
      mode: "markers",
      name: `best epoch (${best.epoch})`,
      x: [best.epoch],
      y: [finiteOrNull(best.valLoss)],
      marker: { symbol: "star", size: 14, color: COLOURS.best },
    });
  return {
    traces,
    options: {
      title: "Reconstruction loss per epoch",
      // `layout` replaces whole axis objects, so the axis titles live here too.
      layout: {
        xaxis: { title: { text: "epoch" }, dtick: 1 },
        yaxis: { title: { text: "loss (log scale)" }, type: "log" },
      },
    },
  };
}

/** Validation AUROC (held-out normals vs proliv spills) per epoch; epochs without one are gaps: `validationCurves(history)`. */
export function validationCurves(history: EpochRecord[]): ChartSpec {
  checkHistory(history, "validationCurves");
  const x = history.map((r) => r.epoch);
  const traces: Record<string, unknown>[] = [
    lineTrace(
      "validation AUROC",
      x,
      history.map((r) => finiteOrNull(r.valAuroc)),
      COLOURS.validation,
    ),
  ];
  const best = bestRecord(history);
  if (best && finiteOrNull(best.valAuroc) !== null)
    traces.push({
      type: "scatter",
      mode: "markers",
      name: `best epoch (${best.epoch})`,
      x: [best.epoch],
      y: [best.valAuroc],
      marker: { symbol: "star", size: 14, color: COLOURS.best },
    });
  return {
    traces,
    options: {
      title: "Validation AUROC per epoch",
      layout: { xaxis: { title: { text: "epoch" }, dtick: 1 }, yaxis: { title: { text: "AUROC" } } },
    },
  };
}

export interface HistogramOptions {
  /** Number of bins over the whole score range (default 50); both classes share them. */
  bins?: number;
  /** Axis title of the score (default "anomaly score"). */
  scoreName?: string;
  title?: string;
}

/**
 * Overlaid per-class histograms of anomaly scores, each normalised to its own class (spills are rare, so raw counts
 * would hide them), with a dashed line at the threshold: `scoreHistogram(scores, labels, 0.004)`.
 */
export function scoreHistogram(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold?: number,
  options: HistogramOptions = {},
): ChartSpec {
  checkLabelsScores(labels, scores);
  if (threshold !== undefined && !Number.isFinite(threshold))
    throw new Error(`scoreHistogram: threshold must be a finite number, got ${threshold}`);
  const bins = options.bins ?? 50;
  if (!(Number.isInteger(bins) && bins > 0))
    throw new Error(`scoreHistogram: bins must be a positive integer, got ${bins}`);
  const normal: number[] = [];
  const spill: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? spill : normal).push(scores[i]);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    min = Math.min(min, scores[i]);
    max = Math.max(max, scores[i]);
  }
  const size = max > min ? (max - min) / bins : 1;
  // Explicit shared bins: plotly would otherwise bin each trace on its own and the bars would not line up.
  const xbins = { start: min, end: max + size, size };
  const hist = (name: string, x: number[], color: string) => ({
    type: "histogram",
    name: `${name} (n = ${x.length})`,
    x,
    xbins,
    histnorm: "probability",
    opacity: 0.6,
    marker: { color },
  });
  const line =
    threshold === undefined
      ? { shapes: [], annotations: [] }
      : verticalLine(threshold, `threshold ${threshold.toPrecision(3)}`);
  return {
    traces: [hist("normal", normal, COLOURS.normal), hist("spill", spill, COLOURS.spill)],
    options: {
      title: options.title ?? "Anomaly scores by class",
      layout: {
        barmode: "overlay",
        xaxis: { title: { text: options.scoreName ?? "anomaly score" } },
        yaxis: { title: { text: "share of the class" } },
        ...line,
      },
    },
  };
}

/** Per-class counts over shared bins: `edges` has one more entry than `normal` and `spill`. */
export interface BinnedScores {
  edges: number[];
  normal: number[];
  spill: number[];
}

/**
 * The same chart as scoreHistogram from counts already binned (what an evaluation file stores instead of every score):
 * `binnedScoreHistogram({ edges: [0, 1, 2], normal: [5, 1], spill: [0, 2] }, 1.5)`.
 */
export function binnedScoreHistogram(
  binned: BinnedScores,
  threshold?: number,
  options: Omit<HistogramOptions, "bins"> = {},
): ChartSpec {
  const { edges, normal, spill } = binned;
  if (
    !Array.isArray(edges) ||
    edges.length < 2 ||
    normal?.length !== edges.length - 1 ||
    spill?.length !== edges.length - 1
  )
    throw new Error(
      `binnedScoreHistogram: need n + 1 edges and n counts per class (got ${edges?.length} edges, ${normal?.length} normal and ${spill?.length} spill counts)`,
    );
  for (let i = 1; i < edges.length; i++)
    if (!(edges[i] > edges[i - 1]))
      throw new Error(`binnedScoreHistogram: edges must increase, but edges[${i}] = ${edges[i]} after ${edges[i - 1]}`);
  if ([...normal, ...spill].some((c) => !(Number.isFinite(c) && c >= 0)))
    throw new Error("binnedScoreHistogram: counts must be non-negative numbers");
  if (threshold !== undefined && !Number.isFinite(threshold))
    throw new Error(`binnedScoreHistogram: threshold must be a finite number, got ${threshold}`);
  const centres = normal.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  const widths = normal.map((_, i) => edges[i + 1] - edges[i]);
  const bars = (name: string, counts: number[], color: string) => {
    const total = counts.reduce((a, b) => a + b, 0);
    return {
      type: "bar",
      name: `${name} (n = ${total})`,
      x: centres,
      width: widths,
      y: counts.map((c) => (total > 0 ? c / total : 0)),
      opacity: 0.6,
      marker: { color },
    };
  };
  const line =
    threshold === undefined
      ? { shapes: [], annotations: [] }
      : verticalLine(threshold, `threshold ${threshold.toPrecision(3)}`);
  return {
    traces: [bars("normal", normal, COLOURS.normal), bars("spill", spill, COLOURS.spill)],
    options: {
      title: options.title ?? "Anomaly scores by class",
      layout: {
        barmode: "overlay",
        bargap: 0,
        xaxis: { title: { text: options.scoreName ?? "anomaly score" } },
        yaxis: { title: { text: "share of the class" } },
        ...line,
      },
    },
  };
}

function checkSameLength(what: string, arrays: Record<string, ArrayLike<unknown>>): void {
  const lengths = Object.entries(arrays).map(([k, a]) => `${k} ${a?.length}`);
  const n = Object.values(arrays).map((a) => a?.length);
  if (n.some((l) => typeof l !== "number" || l !== n[0]) || n[0] === 0)
    throw new Error(`${what}: the curve's arrays must be non-empty and equally long (${lengths.join(", ")})`);
}

/** ROC curve (TPR against FPR) with the chance diagonal; hovering shows each point's threshold: `rocChart(rocCurve(labels, scores), { auroc })`. */
/**
 * Several scores' ROC curves on one chart, each named with its AUROC:
 *   rocCurvesChart([{ name: "zTopKMean", roc: rocCurve(labels, a), auroc: auroc(labels, a) }, …], { title: "Report-part ROC" })
 */
export function rocCurvesChart(
  curves: readonly { name: string; roc: RocCurve; auroc?: number }[],
  options: { title?: string } = {},
): ChartSpec {
  if (curves.length === 0) throw new Error("rocCurvesChart: no curves");
  const palette = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
  ];
  const traces = curves.map((c, i) => {
    checkSameLength("rocCurvesChart", { fpr: c.roc.fpr, tpr: c.roc.tpr, thresholds: c.roc.thresholds });
    const step = Math.max(1, Math.floor(c.roc.fpr.length / 400)); // at most ~400 points a curve keeps the report small
    const pick = <T>(a: ArrayLike<T>) => Array.from(a).filter((_, k) => k % step === 0 || k === a.length - 1);
    return {
      type: "scatter",
      mode: "lines",
      name: c.auroc === undefined ? c.name : `${c.name} (${c.auroc.toFixed(4)})`,
      x: pick(c.roc.fpr).map(finiteOrNull),
      y: pick(c.roc.tpr).map(finiteOrNull),
      line: { color: palette[i % palette.length] },
      hovertemplate: `${c.name}<br>FPR %{x:.4f}<br>TPR %{y:.4f}<extra></extra>`,
    };
  });
  return {
    traces: [
      ...traces,
      {
        type: "scatter",
        mode: "lines",
        name: "chance",
        x: [0, 1],
        y: [0, 1],
        line: { color: "#999", dash: "dot" },
        hoverinfo: "skip",
      },
    ],
    options: {
      title: options.title ?? "ROC curves",
      layout: {
        xaxis: { title: { text: "false-positive rate (normals flagged)" }, range: [-0.01, 1.01] },
        yaxis: { title: { text: "true-positive rate (spills caught)" }, range: [-0.01, 1.01] },
      },
    },
  };
}

export function rocChart(roc: RocCurve, options: { auroc?: number; title?: string } = {}): ChartSpec {
  checkSameLength("rocChart", { fpr: roc.fpr, tpr: roc.tpr, thresholds: roc.thresholds });
  const name = options.auroc === undefined ? "ROC" : `ROC (AUROC ${options.auroc.toFixed(4)})`;
  return {
    traces: [
      {
        type: "scatter",
        mode: "lines",
        name,
        x: roc.fpr.map(finiteOrNull),
        y: roc.tpr.map(finiteOrNull),
        customdata: roc.thresholds.map(finiteOrNull),
        hovertemplate: "FPR %{x:.4f}<br>TPR %{y:.4f}<br>threshold %{customdata:.4g}<extra></extra>",
        line: { color: COLOURS.spill },
      },
      {
        type: "scatter",
        mode: "lines",
        name: "chance",
        x: [0, 1],
        y: [0, 1],
        line: { color: "#999", dash: "dot" },
        hoverinfo: "skip",
      },
    ],
    options: {
      title: options.title ?? "ROC curve",
      layout: {
        xaxis: { title: { text: "false-positive rate (normals flagged)" }, range: [-0.01, 1.01] },
        yaxis: { title: { text: "true-positive rate (spills caught)" }, range: [-0.01, 1.01] },
      },
    },
  };
}

/**
 * Precision–recall curve drawn as steps, with the no-skill baseline (the share of spills): `prChart(prCurve(labels, scores), { ap })`.
 * Steps "vh" (up, then across): precision P_n holds over the recall interval (R_{n-1}, R_n], so the area under the
 * drawn curve is exactly lib/metrics' average precision; straight lines would overstate it.
 */
export function prChart(pr: PrCurve, options: { averagePrecision?: number; title?: string } = {}): ChartSpec {
  checkSameLength("prChart", { recall: pr.recall, precision: pr.precision, thresholds: pr.thresholds });
  // The last point flags everything, so its precision is the share of positives: the baseline.
  const prevalence = pr.precision[pr.precision.length - 1];
  const name = options.averagePrecision === undefined ? "PR" : `PR (AP ${options.averagePrecision.toFixed(4)})`;
  return {
    traces: [
      {
        type: "scatter",
        mode: "lines",
        name,
        x: pr.recall.map(finiteOrNull),
        y: pr.precision.map(finiteOrNull),
        customdata: pr.thresholds.map(finiteOrNull),
        hovertemplate: "recall %{x:.4f}<br>precision %{y:.4f}<br>threshold %{customdata:.4g}<extra></extra>",
        line: { color: COLOURS.spill, shape: "vh" },
      },
      {
        type: "scatter",
        mode: "lines",
        name: `no skill (${(prevalence * 100).toFixed(1)} % spills)`,
        x: [0, 1],
        y: [prevalence, prevalence],
        line: { color: "#999", dash: "dot" },
        hoverinfo: "skip",
      },
    ],
    options: {
      title: options.title ?? "Precision–recall curve",
      layout: {
        xaxis: { title: { text: "recall (spills caught)" }, range: [-0.01, 1.01] },
        yaxis: { title: { text: "precision (alarms that are spills)" }, range: [-0.01, 1.01] },
      },
    },
  };
}

/**
 * TPR, TNR, precision and F1 against the threshold, rows sorted by threshold, optionally a line at the chosen one:
 * `metricsVsThresholdChart(metricsVsThreshold(labels, scores, grid), { threshold: 0.004 })`.
 */
export function metricsVsThresholdChart(
  rows: ThresholdMetrics[],
  options: { threshold?: number; scoreName?: string; title?: string } = {},
): ChartSpec {
  if (!Array.isArray(rows) || rows.length === 0)
    throw new Error("metricsVsThresholdChart: no rows (pass metricsVsThreshold(...) output)");
  const sorted = [...rows].sort((a, b) => a.threshold - b.threshold);
  const x = sorted.map((r) => finiteOrNull(r.threshold));
  const series: [string, keyof ThresholdMetrics, string][] = [
    ["TPR (recall)", "tpr", COLOURS.spill],
    ["TNR (specificity)", "tnr", COLOURS.normal],
    ["precision", "precision", "#9467bd"],
    ["F1", "f1", COLOURS.best],
  ];
  const line =
    options.threshold === undefined
      ? { shapes: [], annotations: [] }
      : verticalLine(options.threshold, `chosen ${options.threshold.toPrecision(3)}`);
  return {
    traces: series.map(([name, key, color]) => ({
      type: "scatter",
      mode: "lines",
      name,
      x,
      y: sorted.map((r) => finiteOrNull(r[key])),
      line: { color },
    })),
    options: {
      title: options.title ?? "Metrics against the threshold",
      layout: {
        xaxis: { title: { text: `threshold on ${options.scoreName ?? "the anomaly score"}` } },
        yaxis: { title: { text: "rate" }, range: [-0.02, 1.02] },
        ...line,
      },
    },
  };
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

// ---------------------------------------------------------------------------------------------------------------
// Images

function toImageShape(like: ShapeLike): ImageShape {
  const s = Array.isArray(like) ? { height: like[0], width: like[1], channels: like[2] } : (like as ImageShape);
  for (const d of ["height", "width", "channels"] as const)
    if (!(Number.isInteger(s[d]) && s[d] > 0))
      throw new Error(`image shape ${d} must be a positive integer, got ${s[d]}`);
  return s;
}

function checkScale(scale: number): void {
  if (!(Number.isInteger(scale) && scale >= 1)) throw new Error(`scale must be a positive integer, got ${scale}`);
}

/** Raw 8-bit HWC pixels → PNG, upscaled `scale` times with nearest neighbour (each pixel becomes a scale×scale block). */
async function encodeRaw(
  bytes: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  scale: number,
): Promise<Buffer> {
  let img = sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { raw: { width, height, channels } });
  if (scale > 1) img = img.resize(width * scale, height * scale, { kernel: "nearest" });
  if (channels === 1) img = img.toColourspace("b-w"); // else libvips writes a 1-channel input as RGB
  return img.png().toBuffer();
}

/** An HWC image with values in [0, 1] (1 or 3 channels) as PNG bytes: `await toPng(img, [32, 48, 3], { scale: 4 })` → 192×128. */
export async function toPng(
  image: ArrayLike<number>,
  shape: ShapeLike,
  options: { scale?: number } = {},
): Promise<Buffer> {
  const { height, width, channels } = toImageShape(shape);
  const scale = options.scale ?? 1;
  checkScale(scale);
  if (channels !== 1 && channels !== 3) throw new Error(`toPng: channels must be 1 or 3, got ${channels}`);
  if (image.length !== height * width * channels)
    throw new Error(
      `toPng: image has ${image.length} values but ${height}×${width}×${channels} needs ${height * width * channels}`,
    );
  const bytes = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = image[i];
    if (!Number.isFinite(v)) throw new Error(`toPng: value ${i} is ${v}; pixels must be finite numbers in [0, 1]`);
    bytes[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  return encodeRaw(bytes, height, width, channels, scale);
}

// matplotlib's "inferno" sampled at 9 evenly spaced points (written here: sharp has no colour maps). Perceptually
// uniform and dark at zero, so small errors recede and large ones glow; linear interpolation between the stops.
const INFERNO: [number, number, number][] = [
  [0, 0, 4],
  [31, 12, 72],
  [85, 15, 109],
  [136, 34, 106],
  [186, 54, 85],
  [227, 89, 51],
  [249, 142, 9],
  [249, 201, 50],
  [252, 255, 164],
];

/** The heat colour of t in [0, 1] (clipped) as [r, g, b] bytes: `heatColour(0)` → [0, 0, 4], `heatColour(1)` → [252, 255, 164]. */
export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [INFERNO[i], INFERNO[i + 1]];
  return [0, 1, 2].map((k) => Math.round(a[k] + f * (b[k] - a[k]))) as [number, number, number];
}

/**
 * An H×W error map as a heat-coloured PNG, 0 → dark and `max` (and above) → bright. Pass the same `max` for every
 * example so colours compare across images; default: this map's own maximum.
 *   await errorMapPng(map, 32, 48, { scale: 4, max: 0.02 })
 */
export async function errorMapPng(
  map: ArrayLike<number>,
  height: number,
  width: number,
  options: { scale?: number; max?: number } = {},
): Promise<Buffer> {
  toImageShape([height, width, 1]);
  const scale = options.scale ?? 1;
  checkScale(scale);
  if (map.length !== height * width)
    throw new Error(`errorMapPng: map has ${map.length} values but ${height}×${width} needs ${height * width}`);
  let max = options.max;
  if (max === undefined) {
    max = 0;
    for (let i = 0; i < map.length; i++) if (map[i] > max) max = map[i];
    if (max === 0) max = 1; // an all-zero map: any scale draws it dark
  }
  if (!(Number.isFinite(max) && max > 0))
    throw new Error(`errorMapPng: max must be a positive finite number, got ${max}`);
  const rgb = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) rgb.set(heatColour(map[i] / max), i * 3);
  return encodeRaw(rgb, height, width, 3, scale);
}

/**
 * Lay PNGs out in a grid, `gap` pixels apart on a plain background: each column as wide as its widest tile, each row
 * as tall as its tallest, tiles at their cells' top left. A null tile leaves its cell empty, so a column of nulls is a
 * spacer `gap` wide. Made with sharp, for PNG files (notebooks use display.imageGrid).
 *   await pngGrid([[normalIn, normalOut, null, spillIn, spillOut]], { gap: 4 })
 */
export async function pngGrid(
  rows: (Uint8Array | null)[][],
  options: { gap?: number; background?: string } = {},
): Promise<Buffer> {
  const gap = options.gap ?? 4;
  if (!(Number.isInteger(gap) && gap >= 0)) throw new Error(`pngGrid: gap must be a non-negative integer, got ${gap}`);
  if (rows.length === 0 || rows.every((r) => r.length === 0)) throw new Error("pngGrid: no tiles");
  const sizes = await Promise.all(rows.map((r) => Promise.all(r.map(async (t) => (t ? sharp(t).metadata() : null)))));
  if (sizes.flat().every((m) => m === null)) throw new Error("pngGrid: every tile is empty");
  const columns = Math.max(...rows.map((r) => r.length));
  const colWidth = Array.from({ length: columns }, (_, x) => Math.max(0, ...sizes.map((r) => r[x]?.width ?? 0)));
  const rowHeight = sizes.map((r) => Math.max(0, ...r.map((m) => m?.height ?? 0)));
  const offsets = (lengths: number[]) =>
    lengths.map((_, i) => gap + lengths.slice(0, i).reduce((a, l) => a + l + gap, 0));
  const [left, top] = [offsets(colWidth), offsets(rowHeight)];
  const composites: sharp.OverlayOptions[] = [];
  rows.forEach((r, y) =>
    r.forEach((t, x) => t && composites.push({ input: Buffer.from(t), left: left[x], top: top[y] })),
  );
  const total = (lengths: number[]) => lengths.reduce((a, l) => a + l + gap, gap);
  return sharp({
    create: {
      width: total(colWidth),
      height: total(rowHeight),
      channels: 3,
      background: options.background ?? "#ffffff",
    },
  })
    .composite(composites)
    .removeAlpha()
    .png()
    .toBuffer();
}

// ---------------------------------------------------------------------------------------------------------------
// Example reconstructions

/**
 * Indices of up to `perClass` normals and as many spills, spread evenly over each class (deterministic), interleaved
 * normal, spill, normal, spill… so that a grid shows them side by side: `pickExamples(validation.labels, 4)`.
 */
export function pickExamples(labels: ArrayLike<number>, perClass: number): number[] {
  if (!(Number.isInteger(perClass) && perClass > 0))
    throw new Error(`pickExamples: perClass must be a positive integer, got ${perClass}`);
  const normals: number[] = [];
  const spills: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 0) normals.push(i);
    else if (labels[i] === 1) spills.push(i);
    else throw new Error(`pickExamples: labels[${i}] is ${labels[i]}; labels must be 0 (normal) or 1 (spill)`);
  }
  const m = Math.min(perClass, normals.length, spills.length);
  if (m === 0)
    throw new Error(`pickExamples: need both classes, got ${normals.length} normals and ${spills.length} spills`);
  const spread = (idx: number[]) => Array.from({ length: m }, (_, k) => idx[Math.floor(((k + 0.5) * idx.length) / m)]);
  const [n, s] = [spread(normals), spread(spills)];
  return n.flatMap((v, k) => [v, s[k]]);
}

/** The images at `indices` of a flat NHWC batch, back to back: `selectImages(validation.data, [3, 7], [32, 48, 3])`. */
export function selectImages(data: Float32Array, indices: number[], shape: ShapeLike): Float32Array {
  const { height, width, channels } = toImageShape(shape);
  const per = height * width * channels;
  const count = data.length / per;
  if (!Number.isInteger(count))
    throw new Error(
      `selectImages: ${data.length} values is not a whole number of ${height}×${width}×${channels} images`,
    );
  const out = new Float32Array(indices.length * per);
  indices.forEach((i, k) => {
    if (!(Number.isInteger(i) && i >= 0 && i < count))
      throw new Error(`selectImages: index ${i} is outside the batch of ${count} images`);
    out.set(data.subarray(i * per, (i + 1) * per), k * per);
  });
  return out;
}

export interface ReconstructionExample {
  label: number;
  input: Float32Array;
  recon: Float32Array;
  /** Per-pixel squared error averaged over channels (lib/scores errorMap), H×W. */
  errorMap: Float32Array;
  /** The image's MSE score. */
  mse: number;
}

/** Pair each input with its reconstruction, error map and MSE: `reconstructionExamples(inputs, recons, labels, shape)`. */
export function reconstructionExamples(
  inputs: Float32Array,
  recons: Float32Array,
  labels: ArrayLike<number>,
  shape: ShapeLike,
): ReconstructionExample[] {
  const s = toImageShape(shape);
  const per = s.height * s.width * s.channels;
  if (inputs.length !== recons.length)
    throw new Error(`reconstructionExamples: ${inputs.length} input values but ${recons.length} reconstructed`);
  if (inputs.length !== labels.length * per)
    throw new Error(
      `reconstructionExamples: ${inputs.length} values for ${labels.length} labels of ${s.height}×${s.width}×${s.channels}`,
    );
  return Array.from(labels, (label, i) => {
    const input = inputs.slice(i * per, (i + 1) * per);
    const recon = recons.slice(i * per, (i + 1) * per);
    return { label, input, recon, errorMap: errorMap(input, recon, s), mse: mseScore(input, recon) };
  });
}

export interface ReconstructionTile {
  label: number;
  mse: number;
  input: Buffer;
  recon: Buffer;
  error: Buffer;
}

/**
 * PNGs of each example's input, reconstruction and error map, the error maps on one shared colour scale:
 * `const { tiles, max } = await reconstructionTiles(examples, shape, { scale: 4 })`. The scale's top, `max`, is the
 * given one or else the `percentile`-th percentile (default 99) of all the examples' pixel errors together: the very
 * largest error is one hot pixel of one spill, and scaling to it would turn every other map black.
 */
export async function reconstructionTiles(
  examples: ReconstructionExample[],
  shape: ShapeLike,
  options: { scale?: number; max?: number; percentile?: number } = {},
): Promise<{ tiles: ReconstructionTile[]; max: number }> {
  const s = toImageShape(shape);
  if (examples.length === 0) throw new Error("reconstructionTiles: no examples");
  let max = options.max;
  if (max === undefined) {
    const pooled = new Float32Array(examples.reduce((n, e) => n + e.errorMap.length, 0));
    examples.reduce((at, e) => (pooled.set(e.errorMap, at), at + e.errorMap.length), 0);
    max = percentile(pooled, options.percentile ?? 99);
    if (!(max > 0)) max = Math.max(...pooled) || 1; // mostly perfect reconstructions: fall back to the largest error
  }
  const scale = options.scale ?? 4;
  const tiles = await Promise.all(
    examples.map(async (e) => ({
      label: e.label,
      mse: e.mse,
      input: await toPng(e.input, s, { scale }),
      recon: await toPng(e.recon, s, { scale }),
      error: await errorMapPng(e.errorMap, s.height, s.width, { scale, max }),
    })),
  );
  return { tiles, max };
}
