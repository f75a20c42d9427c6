/**
 * Tables of the threshold analysis as plain data (`{ columns, rows }` for lib/report's `table()`), and the confusion
 * matrix as a danfo DataFrame (for `frameTable`).
 *
 *   const t = strategyTable(choices);               // one row per strategy: threshold and validation metrics
 *   tslab.display.html(table(t.columns, t.rows));
 *   tslab.display.html(frameTable(confusionFrame(metrics), { heat: true, showIndex: true }));
 */
import type { DataFrame } from "danfojs";
import { type Cell, table, type TableOptions } from "./display";
import type { ConfusionMatrix, ThresholdMetrics } from "../detector/metrics";
import type { PredictedVsActualRow, StrategyChoice, TestResult } from "../detector";

// ---------------------------------------------------------------------------------------------------------------
// Tables

/** Column names and rows for lib/display's `table(columns, rows)`. */
export interface TableData {
  columns: string[];
  rows: Cell[][];
}

const METRIC_COLUMNS = [
  "threshold",
  "TPR",
  "TNR",
  "precision",
  "F1",
  "accuracy",
  "balanced acc.",
  "TP",
  "FP",
  "TN",
  "FN",
];
const metricCells = (m: ThresholdMetrics | null, threshold: number | null): Cell[] =>
  m === null
    ? [threshold, null, null, null, null, null, null, null, null, null, null]
    : [m.threshold, m.tpr, m.tnr, m.precision, m.f1, m.accuracy, m.balancedAccuracy, m.tp, m.fp, m.tn, m.fn];

/**
 * One row per strategy with its threshold and metrics (validation's or test's) and the note:
 * `table(...Object.values(strategyTable(choices)))`.
 */
export function strategyTable(rows: readonly (StrategyChoice | TestResult)[]): TableData {
  return {
    columns: ["strategy", ...METRIC_COLUMNS, "note"],
    rows: rows.map((r) => {
      const m = "validation" in r ? r.validation : r.metrics;
      return [r.id, ...metricCells(m, r.threshold), r.note ?? ""];
    }),
  };
}

/** predictedVsActual rows as a table. */
export function predictedVsActualTable(rows: readonly PredictedVsActualRow[]): TableData {
  return {
    columns: [
      "strategy",
      "threshold",
      "TNR validation",
      "TNR test",
      "TNR gap",
      "TPR validation",
      "TPR test",
      "TPR gap",
      "F1 validation",
      "F1 test",
    ],
    rows: rows.map((r) => [
      r.id,
      r.threshold,
      r.tnrValidation,
      r.tnrTest,
      r.tnrGap,
      r.tprValidation,
      r.tprTest,
      r.tprGap,
      r.f1Validation,
      r.f1Test,
    ]),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Confusion matrix as a danfo DataFrame

/**
 * Rows actual normal / actual spill, columns predicted normal / predicted spill:
 *   frameTable(confusionFrame({ tp: 90, fp: 46, tn: 3619, fn: 39 }), { heat: true, showIndex: true })
 */
export function confusionFrame(cm: ConfusionMatrix): DataFrame {
  for (const k of ["tp", "fp", "tn", "fn"] as const)
    if (!(Number.isInteger(cm[k]) && cm[k] >= 0))
      throw new Error(`confusionFrame: ${k} must be a non-negative integer, got ${cm[k]}`);
  // Required lazily: danfo loads in about half a second and most users of this module never draw a table.
  const dfd = require("danfojs") as typeof import("danfojs");
  return new dfd.DataFrame(
    [
      [cm.tn, cm.fp],
      [cm.fn, cm.tp],
    ],
    { columns: ["predicted normal", "predicted spill"], index: ["actual normal", "actual spill"] },
  );
}

/** The HTML of table data: `tableHtml(strategyTable(choices), { caption: "validation" })`. */
export function tableHtml(data: TableData, options: TableOptions = {}): string {
  return table(data.columns, data.rows, options);
}
