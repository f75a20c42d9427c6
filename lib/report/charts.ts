/**
 * Chart specs for the spill detector: what notebooks 03/04 show and `npm run charts` saves as PNG.
 *
 * Charts. Every builder returns plain data, `{ traces, options }`: plotly traces plus the ChartOptions of lib/display's
 * `chart()`. Being data, they are testable, and the notebooks and the PNG export draw exactly the same charts:
 * lossCurves, validationCurves (from a run log), scoreHistogram / binnedScoreHistogram, rocChart, prChart,
 * metricsVsThresholdChart (from lib/metrics), and evaluationCharts (all of them from an evaluation JSON).
 * Plotly cannot carry -Infinity or NaN (JSON turns them into null anyway): every number goes through `finiteOrNull`,
 * so the ROC curve's last threshold (-Infinity, "flag everything") becomes an explicit null.
 *
 *   import { lossCurves, chartHtml } from "../dist/lib/report";
 *   tslab.display.html(chartHtml(lossCurves(readRunLog("../runs/notebook"))));
 */
import { chart, type ChartOptions } from "./display";
import { indicesOf } from "../detector/labels";
import { checkLabelsScores, type PrCurve, type RocCurve, scoreBins, type ThresholdMetrics } from "../detector/metrics";
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

/**
 * Validation AUROC (held-out normals vs proliv spills) per epoch; epochs without one are gaps:
 * `validationCurves(history)`.
 */
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
  const { min, max, width: size } = scoreBins(scores, options.bins ?? 50, "scoreHistogram");
  const scoresOf = (label: number) => indicesOf(labels, label).map((i) => scores[i]);
  const [normal, spill] = [scoresOf(0), scoresOf(1)];
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
      "binnedScoreHistogram: need n + 1 edges and n counts per class " +
        `(got ${edges?.length} edges, ${normal?.length} normal and ${spill?.length} spill counts)`,
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

/** The chance diagonal and the axes every ROC chart here shares. */
const CHANCE_DIAGONAL = {
  type: "scatter",
  mode: "lines",
  name: "chance",
  x: [0, 1],
  y: [0, 1],
  line: { color: "#999", dash: "dot" },
  hoverinfo: "skip",
};
const ROC_AXES = {
  xaxis: { title: { text: "false-positive rate (normals flagged)" }, range: [-0.01, 1.01] },
  yaxis: { title: { text: "true-positive rate (spills caught)" }, range: [-0.01, 1.01] },
};

/**
 * Several scores' ROC curves on one chart, each named with its AUROC:
 *   const curves = [{ name: "zTopKMean", roc: rocCurve(labels, a), auroc: auroc(labels, a) }, …];
 *   rocCurvesChart(curves, { title: "Report-part ROC" })
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
    traces: [...traces, CHANCE_DIAGONAL],
    options: {
      title: options.title ?? "ROC curves",
      layout: {
        ...ROC_AXES,
      },
    },
  };
}

/**
 * ROC curve (TPR against FPR) with the chance diagonal; hovering shows each point's threshold:
 * `rocChart(rocCurve(labels, scores), { auroc })`.
 */
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
      CHANCE_DIAGONAL,
    ],
    options: {
      title: options.title ?? "ROC curve",
      layout: {
        ...ROC_AXES,
      },
    },
  };
}

/**
 * Precision–recall curve drawn as steps, with the no-skill baseline (the share of spills):
 * `prChart(prCurve(labels, scores), { ap })`.
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
