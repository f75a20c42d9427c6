/**
 * Notebook 03's tables, figures and progress lines (training the spill detector), from lib/detector's prepared wells
 * (`prepareWells`), training (`trainAutoencoder`) and fitted detector (`fitWellsDetector`): each function returns
 * table data, HTML or a line of text, so that the notebook's cells stay a call or two each. `batchProgressText` is also
 * the progress line of `npm run train`.
 *
 *   tslab.display.html(tableHtml(datasetTable(ds, TRAIN_LIMIT)));
 *   onBatch: (p) => live.text(batchProgressText(p)),
 *   onEpoch: (r) => { done.push(r); view.html(tableHtml(epochTable(done))); },
 */
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { bar, formatDuration } from "../common/progress";
import type { Detector } from "../detector/detector";
import { reconstruct } from "../detector/predict";
import type { BatchProgress, EpochRecord, TrainResult } from "../detector/train";
import type { TensorData, WellList, WellSplit } from "../detector/wells";
import { image, imageGrid } from "./display";
import { pickExamples, reconstructionExamples, reconstructionTiles, selectImages, toPng } from "./images";
import type { TableData } from "./tables";
import { shortName } from "./threshold-analysis";

/** Table data with the caption it is shown with: `tableHtml(t, { caption: t.caption })`. */
export interface CaptionedTable extends TableData {
  caption: string;
}

/** The labelled validation images a grid draws from: pixels, labels (0 normal, 1 spill) and file names. */
export type LabelledImages = Pick<TensorData, "data" | "labels" | "files">;

// ---------------------------------------------------------------------------------------------------------------
// Progress lines

/**
 * The one-line progress of a training epoch: "epoch 1/8 [######..............] 28% batch 40/141  loss 0.00412
 * 118 img/s  epoch ETA 52s" in the notebook. `{ compact: true }` is `npm run train`'s terminal line: single spaces and
 * "ETA" alone.
 */
export function batchProgressText(p: BatchProgress, options: { compact?: boolean } = {}): string {
  const gap = options.compact ? " " : "  ";
  const eta = options.compact ? "ETA" : "epoch ETA";
  return (
    `epoch ${p.epoch}/${p.epochs} ${bar(p.batch / p.batches)} batch ${p.batch}/${p.batches}${gap}` +
    `loss ${p.loss.toFixed(5)}${gap}${p.imagesPerSecond.toFixed(0)} img/s${gap}${eta} ${formatDuration(p.etaSeconds)}`
  );
}

/**
 * A `prepareWells` onProgress that shows "decoding train: [#####...............] 25% 250/1000" through `show` every
 * `every` images and
 * at the end of each set: `onProgress: decodingProgress((t) => loading.text(t))`.
 */
export function decodingProgress(
  show: (text: string) => void,
  every = 250,
): (what: string, done: number, total: number) => void {
  return (what, done, total) => {
    if (done === total || done % every === 0) show(`decoding ${what}: ${bar(done / total)} ${done}/${total}`);
  };
}

/** "loaded 1984 images at 32×48×3 (validation from the cache)": what `prepareWells` gave, training and validation. */
export function loadedSummary(ds: {
  trainItems: readonly unknown[];
  validation: { labels: ArrayLike<number>; fromCache: boolean };
  trainData: { shape: readonly number[] };
}): string {
  const n = ds.trainItems.length + ds.validation.labels.length;
  const how = ds.validation.fromCache ? "from the cache" : "decoded";
  return `loaded ${n} images at ${ds.trainData.shape.join("×")} (validation ${how})`;
}

/** "done: best epoch 2 of 2 (stopped early); checkpoints in /abs/runDir": the end of a training run. */
export function trainingDoneText(
  result: Pick<TrainResult, "bestEpoch" | "history" | "stoppedEarly">,
  runDir: string,
): string {
  const stopped = result.stoppedEarly ? " (stopped early)" : "";
  const best = `best epoch ${result.bestEpoch} of ${result.history.length}${stopped}`;
  return `done: ${best}; checkpoints in ${path.resolve(runDir)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables

/**
 * The sets of a prepared dataset: training images (a seeded subset when `trainLimit` is set: QUICK), held-out normals,
 * spills, the duplicates kept out of training and the test images identical to training ones.
 */
export function datasetTable(
  ds: {
    trainItems: readonly unknown[];
    split: Pick<WellSplit, "train" | "heldOut" | "duplicatesDropped" | "testInTrain">;
    list: Pick<WellList, "spill" | "test">;
  },
  trainLimit?: number,
): TableData {
  return {
    columns: ["set", "images", "role"],
    rows: [
      [
        "train (normal)",
        ds.trainItems.length,
        trainLimit ? `a seeded subset of ${ds.split.train.length} (QUICK)` : "fits the autoencoder",
      ],
      ["held-out normals", ds.split.heldOut, "validation negatives"],
      ["spills (proliv/)", ds.list.spill.length, "validation positives"],
      ["duplicates dropped", ds.split.duplicatesDropped, "extra copies of held-out images, kept out of training"],
      [
        "test identical to train",
        ds.split.testInTrain,
        `of ${ds.list.test.length} test images; reported, not acted on`,
      ],
    ],
  };
}

/** A model's layers: name, type, output shape (batch dimension as "batch") and parameters; the total in the caption. */
export function layerTable(model: Pick<tf.LayersModel, "layers" | "countParams">): CaptionedTable {
  return {
    columns: ["layer", "type", "output shape", "parameters"],
    rows: model.layers.map((l) => [
      l.name,
      l.getClassName(),
      JSON.stringify(l.outputShape).replace(/null/g, "batch"),
      l.countParams(),
    ]),
    caption: `${model.countParams().toLocaleString("en")} parameters in all`,
  };
}

/** The columns of `epochTable`. */
export const EPOCH_COLUMNS = [
  "epoch",
  "train loss",
  "val loss",
  "val AUROC",
  "val KL (VAE)",
  "seconds",
  "img/s",
  "best so far",
];

/** One row per epoch of a training history: losses, validation AUROC and KL (VAE only, else "–"), speed, best (★). */
export function epochTable(history: readonly EpochRecord[]): TableData {
  return {
    columns: [...EPOCH_COLUMNS],
    rows: history.map((r) => [
      r.epoch,
      r.loss,
      r.valLoss,
      r.valAuroc,
      r.valKl ?? "–",
      r.seconds,
      Math.round(r.imagesPerSecond),
      r.best ? "★" : "",
    ]),
  };
}

/**
 * The detector's fitted reference parts (`fitWellsDetector`): the density, the adapted density, the error statistics
 * of zTopKMean and the fusion scales, each with what it was fitted on and its size; the caption says how long the
 * fit took and where the parts were saved.
 */
export function detectorPartsTable(
  detector: Pick<Detector, "density" | "densityAdapted" | "errorStats" | "fusion">,
  fit: { seconds: number; savedTo: string },
): CaptionedTable {
  const { density: d, densityAdapted: adapted, fusion } = detector;
  if (!d || !fusion) throw new Error("detectorPartsTable: the detector has no density or no fusion scales");
  const dropped = `${d.dropped.length} constant, dropped`;
  const features = `${d.kept.length} features (${dropped}), shrinkage ${d.shrinkage.toFixed(4)}`;
  return {
    columns: ["part", "fitted on", "size"],
    rows: [
      ["density", `${d.count} training normals`, features],
      ["densityAdapted", adapted?.fittedOn ?? "–", `${adapted?.count ?? 0} images`],
      ["zTopKMean error statistics", "the adapt part's pseudo-normals", `${detector.errorStats?.count ?? 0} images`],
      ["fusion scales", fusion.fittedOn, fusion.parts.join(" + ")],
    ],
    caption: `fitted in ${fit.seconds.toFixed(1)} s; saved to ${fit.savedTo}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Image grids

const classCaption = (set: LabelledImages, i: number) =>
  `${set.labels[i] === 1 ? "spill" : "normal"} ${shortName(set.files[i])}`;

/**
 * Some validation images as the network sees them: `perClass` normals in the first row(s), as many spills after,
 * each scaled `scale`× (nearest neighbour) and captioned with its class and file.
 */
export async function validationExamplesGrid(
  set: LabelledImages,
  shape: [number, number, number],
  options: { perClass?: number; scale?: number; columns?: number } = {},
): Promise<string> {
  const per = shape[0] * shape[1] * shape[2];
  const shown = pickExamples(set.labels, options.perClass ?? 6); // normal, spill, normal, spill…
  const byClass = [...shown.filter((_, k) => k % 2 === 0), ...shown.filter((_, k) => k % 2 === 1)];
  const cells = await Promise.all(
    byClass.map(async (i) => ({
      html: image(await toPng(set.data.subarray(i * per, (i + 1) * per), shape, { scale: options.scale ?? 3 })),
      caption: classCaption(set, i),
    })),
  );
  return imageGrid(cells, { columns: options.columns ?? 6 });
}

/**
 * `perClass` normals and as many spills (interleaved), each with the model's reconstruction and its error map on one
 * shared colour scale, three cells per image; `legend` is the line that gives the scale's top.
 */
export async function reconstructionGrid(
  model: tf.LayersModel,
  set: LabelledImages,
  shape: [number, number, number],
  options: { perClass?: number; scale?: number; columns?: number } = {},
): Promise<{ html: string; max: number; legend: string }> {
  const picked = pickExamples(set.labels, options.perClass ?? 5); // normal, spill, normal, spill…
  const inputs = selectImages(set.data, picked, shape);
  const recons = await reconstruct(model, inputs, shape);
  const examples = reconstructionExamples(
    inputs,
    recons,
    picked.map((i) => set.labels[i]),
    shape,
  );
  const { tiles, max } = await reconstructionTiles(examples, shape, { scale: options.scale ?? 3 });
  const cells = tiles.flatMap((t, k) => [
    { html: image(t.input), caption: classCaption(set, picked[k]) },
    { html: image(t.recon), caption: "reconstruction" },
    { html: image(t.error), caption: `error · MSE ${t.mse.toExponential(2)}` },
  ]);
  const legend =
    `error colour scale: black = 0 … pale yellow ≥ ${max.toExponential(2)} ` +
    "(squared error per pixel, 99th percentile of these maps)";
  return { html: imageGrid(cells, { columns: options.columns ?? 6 }), max, legend };
}
