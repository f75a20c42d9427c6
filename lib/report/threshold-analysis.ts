/**
 * Notebook 04's tables and figures, from lib/detector's evaluation (`evaluateCheckpoint`), threshold analysis
 * (`thresholdAnalysis`) and final test analysis (`testAnalysis`): each function returns table data or HTML, so the
 * notebook's cells stay one call each.
 *
 *   tslab.display.html(tableHtml(poolValidationTable(ev.rows), { caption: "AUROC on the select part" }));
 *   tslab.display.html(tableHtml(strategyByScoreTable(analysis, "pool5")));
 *   tslab.display.html(await errorExamplesGrid(ev.detector.model, test, wrong.falsePositives, scoreOf));
 */
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import {
  auroc,
  averagePrecision,
  type CheckpointEvaluation,
  choiceById,
  type DetectorPoolSummary,
  partIndices,
  type ScoreEvaluation,
  type TestAnalysis,
  type ThresholdAnalysis,
  reconstruct,
} from "../detector";
import type { CachedTensorData } from "../detector/image-cache";
import { image, imageGrid } from "./display";
import { reconstructionExamples, reconstructionTiles, selectImages } from "./images";
import type { OurResult } from "./references";
import type { TableData } from "./tables";

/** Validation AUROC and average precision of every score (held-out normals against proliv spills). */
export function validationScoreTable(analysis: ThresholdAnalysis): TableData {
  const { labels, scores } = analysis.validation;
  return {
    columns: ["score", "validation AUROC", "validation AP"],
    rows: analysis.scores.map((s) => [s, auroc(labels, scores[s]), averagePrecision(labels, scores[s])]),
  };
}

/** The label-free pool validation per score: proliv vs pool, synthetic on pool (all and per kind), selection value. */
export function poolValidationTable(rows: readonly DetectorPoolSummary[]): TableData {
  if (rows.length === 0) throw new Error("poolValidationTable: no rows");
  const kinds = Object.keys(rows[0].aurocByKind);
  return {
    columns: ["score", "proliv vs pool", "synthetic on pool", ...kinds, "selection value"],
    rows: rows.map((r) => [
      r.score,
      r.aurocProliv,
      r.aurocSynthetic,
      ...kinds.map((k) => r.aurocByKind[k]),
      r.selection,
    ]),
  };
}

/** One strategy's threshold and validation TPR, TNR and F1 for every score. */
export function strategyByScoreTable(analysis: ThresholdAnalysis, strategyId: string): TableData {
  return {
    columns: ["score", "threshold", "TPR", "TNR", "F1"],
    rows: analysis.scores.map((s) => {
      const c = choiceById(analysis.choices[s], strategyId);
      return [s, c.threshold, c.validation?.tpr, c.validation?.tnr, c.validation?.f1];
    }),
  };
}

/** Every score on the report part and the whole test set: AUROC, AP, and one strategy's TPR and TNR. */
export function testScoresTable(test: TestAnalysis, strategyId: string): TableData {
  return {
    columns: [
      "score",
      "validation AUROC",
      "report AUROC",
      "report AP",
      `report TPR (${strategyId})`,
      `report TNR (${strategyId})`,
      "whole-test AUROC",
      `whole TPR (${strategyId})`,
      `whole TNR (${strategyId})`,
    ],
    rows: test.evaluations.map((e, k) => {
      const whole = test.wholeEvaluations[k];
      const m = choiceById(e.test.strategies, strategyId).metrics;
      const w = choiceById(whole.test.strategies, strategyId).metrics;
      return [e.score, e.validation.auroc, e.test.auroc, e.test.averagePrecision, m?.tpr, m?.tnr, whole.test.auroc]
        .concat([w?.tpr, w?.tnr])
        .map((v) => v ?? null);
    }),
  };
}

/** Our measured rows for the comparison table: one per strategy of the primary score on the report part. */
export function ourResults(evaluation: ScoreEvaluation, primaryStrategy: string): OurResult[] {
  return evaluation.test.strategies.map((r) => ({
    source: `this detector, ${evaluation.score}, ${r.id}${r.id === primaryStrategy ? " (primary)" : ""}, report part`,
    metrics: r.metrics,
    validationAuroc: evaluation.validation.auroc,
    testAuroc: evaluation.test.auroc,
    note: r.note,
  }));
}

/** A file name cut to `max` characters (with "…"), without its folder and extension: for image captions. */
export function shortName(file: string, max = 14): string {
  const n = path.basename(file, path.extname(file));
  return n.length > max ? `${n.slice(0, max - 1)}…` : n;
}

/**
 * A grid of test images (input and error map side by side), each captioned with its file and score: the detector's
 * mistakes. `scoreOf(i)` gives image i's score (as text); indices are into `set`.
 */
export async function errorExamplesGrid(
  model: tf.LayersModel,
  set: Pick<CachedTensorData, "data" | "labels" | "files">,
  indices: number[],
  score: { name: string; values: ArrayLike<number> },
  shape: [number, number, number],
  options: { what?: string; columns?: number } = {},
): Promise<string> {
  if (indices.length === 0) return `<p><em>no ${options.what ?? "images"}</em></p>`;
  const x = selectImages(set.data, indices, shape);
  const labels = indices.map((i) => set.labels[i]);
  const examples = reconstructionExamples(x, await reconstruct(model, x, shape), labels, shape);
  const { tiles } = await reconstructionTiles(examples, shape, { scale: 4 });
  const cells = tiles.flatMap((t, k) => [
    {
      html: image(t.input, { width: 144 }),
      caption:
        `${path.basename(set.files[indices[k]]).slice(0, 13)}… ` +
        `${score.name} ${score.values[indices[k]].toExponential(2)}`,
    },
    { html: image(t.error, { width: 144 }), caption: "error map" },
  ]);
  return imageGrid(cells, { columns: options.columns ?? 4 });
}

/** The counts of the validation set and a test part: normals and spills. */
export function classCounts(labels: ArrayLike<number>): { normals: number; spills: number } {
  let spills = 0;
  for (let i = 0; i < labels.length; i++) spills += labels[i] === 1 ? 1 : 0;
  return { normals: labels.length - spills, spills };
}

/** One line on where the detector's parts came from and the pool's sizes. */
export function evaluationSummary(ev: CheckpointEvaluation, primary: string): string {
  const d = ev.detector.density;
  const per = ev.shape[0] * ev.shape[1] * ev.shape[2];
  const n = (x: Float32Array | null) => (x ? x.length / per : 0);
  return (
    `pool: ${n(ev.adapt)} adapt, ${n(ev.select)} select, ` +
    `${ev.adapt ? partIndices(ev.ds.list.test, "report").length : 0} ` +
    `report images; parts ${ev.partsFrom === "fitted" ? "fitted here" : "from the model folder"}; ` +
    (d ? `density: ${d.kept.length} features, shrinkage ${d.shrinkage.toFixed(4)}; ` : "") +
    `primary score ${primary}`
  );
}

/** lib/detector's `scoreShift` rows as a table: quantile, held-out normals, unlabelled select images, ratio. */
export function scoreShiftTable(
  shift: readonly { quantile: number; heldOut: number; deployment: number; ratio: number }[],
): TableData {
  return {
    columns: ["quantile", "held-out normals", "unlabelled select images", "ratio"],
    rows: shift.map((r) => [r.quantile, r.heldOut, r.deployment, r.ratio]),
  };
}
