import assert from "node:assert/strict";
import * as path from "node:path";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { EpochRecord, GaussianDensity, WellItem } from "../../lib/detector";
import {
  batchProgressText,
  datasetTable,
  decodingProgress,
  detectorPartsTable,
  EPOCH_COLUMNS,
  epochTable,
  layerTable,
  loadedSummary,
  reconstructionGrid,
  toPng,
  trainingDoneText,
  validationExamplesGrid,
} from "../../lib/report";

before(async () => {
  await tf.setBackend("cpu");
});

const progress = {
  epoch: 2,
  epochs: 8,
  batch: 5,
  batches: 10,
  loss: 0.0123456,
  imagesPerSecond: 117.6,
  etaSeconds: 65,
};

test("batchProgressText: the notebook's line, double-spaced, with 'epoch ETA'", () => {
  assert.equal(
    batchProgressText(progress),
    "epoch 2/8 [##########..........] 50% batch 5/10  loss 0.01235  118 img/s  epoch ETA 1m05s",
  );
});

test("batchProgressText: compact is npm run train's terminal line, single-spaced, with 'ETA'", () => {
  assert.equal(
    batchProgressText({ ...progress, batch: 10, etaSeconds: 0 }, { compact: true }),
    "epoch 2/8 [####################] 100% batch 10/10 loss 0.01235 118 img/s ETA 0s",
  );
});

test("decodingProgress: shows every `every` images and at the end of each set", () => {
  const shown: string[] = [];
  const onProgress = decodingProgress((t) => shown.push(t), 250);
  for (const done of [100, 250, 499, 500, 1000]) onProgress("train", done, 1000);
  onProgress("validation", 7, 7);
  assert.deepEqual(shown, [
    "decoding train: [#####...............] 25% 250/1000",
    "decoding train: [##########..........] 50% 500/1000",
    "decoding train: [####################] 100% 1000/1000",
    "decoding validation: [####################] 100% 7/7",
  ]);
});

test("loadedSummary: training plus validation images, the input shape and where validation came from", () => {
  const ds = { trainItems: [1, 2, 3], validation: { labels: Uint8Array.of(0, 0, 1), fromCache: true } };
  assert.equal(
    loadedSummary({ ...ds, trainData: { shape: [32, 48, 3] } }),
    "loaded 6 images at 32×48×3 (validation from the cache)",
  );
  assert.equal(
    loadedSummary({ ...ds, validation: { ...ds.validation, fromCache: false }, trainData: { shape: [16, 24, 1] } }),
    "loaded 6 images at 16×24×1 (validation decoded)",
  );
});

test("trainingDoneText: best epoch of all, early stop, the run folder made absolute", () => {
  const history = [{}, {}, {}] as EpochRecord[];
  assert.equal(
    trainingDoneText({ bestEpoch: 2, history, stoppedEarly: true }, "runs/x"),
    `done: best epoch 2 of 3 (stopped early); checkpoints in ${path.resolve("runs/x")}`,
  );
  assert.equal(
    trainingDoneText({ bestEpoch: 3, history, stoppedEarly: false }, "/tmp/run"),
    "done: best epoch 3 of 3; checkpoints in /tmp/run",
  );
});

test("datasetTable: one row per set, the training row naming the subset when trainLimit is set", () => {
  const item = (i: number): WellItem => ({ file: `/w/${i}.png`, label: 0, hash: String(i) });
  const ds = {
    trainItems: [0, 1, 2].map(item),
    split: { train: [0, 1, 2, 3, 4, 5, 6].map(item), heldOut: 4, duplicatesDropped: 2, testInTrain: 1 },
    list: { spill: [item(8), item(9)], test: [10, 11, 12, 13, 14].map(item) },
  };
  const t = datasetTable(ds, 3);
  assert.deepEqual(t.columns, ["set", "images", "role"]);
  assert.deepEqual(t.rows, [
    ["train (normal)", 3, "a seeded subset of 7 (QUICK)"],
    ["held-out normals", 4, "validation negatives"],
    ["spills (proliv/)", 2, "validation positives"],
    ["duplicates dropped", 2, "extra copies of held-out images, kept out of training"],
    ["test identical to train", 1, "of 5 test images; reported, not acted on"],
  ]);
  assert.deepEqual(datasetTable(ds).rows[0], ["train (normal)", 3, "fits the autoencoder"]);
});

test("layerTable: each layer's name, type, output shape with 'batch' and parameters; the total in the caption", () => {
  const input = tf.input({ shape: [4, 4, 1], name: "image" });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: "same", name: "c1" }).apply(input);
  const up = tf.layers
    .conv2dTranspose({ filters: 1, kernelSize: 2, strides: 2, padding: "same", name: "up" })
    .apply(conv) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: "flat" }).apply(up);
  const out = tf.layers.dense({ units: 100, name: "fc" }).apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const t = layerTable(model);
  model.dispose();
  assert.deepEqual(t.columns, ["layer", "type", "output shape", "parameters"]);
  assert.deepEqual(t.rows, [
    ["image", "InputLayer", "[batch,4,4,1]", 0],
    ["c1", "Conv2D", "[batch,4,4,2]", 3 * 3 * 1 * 2 + 2],
    ["up", "Conv2DTranspose", "[batch,8,8,1]", 2 * 2 * 2 * 1 + 1],
    ["flat", "Flatten", "[batch,64]", 0],
    ["fc", "Dense", "[batch,100]", 64 * 100 + 100],
  ]);
  assert.equal(t.caption, "6,529 parameters in all");
});

test("epochTable: one row per epoch, KL only for a VAE, img/s rounded, the best epochs starred", () => {
  const record = (epoch: number, extra: Partial<EpochRecord>): EpochRecord => ({
    epoch,
    loss: 0.01 / epoch,
    valLoss: 0.02 / epoch,
    valAuroc: 0.9,
    seconds: 12.5,
    imagesPerSecond: 117.6,
    best: false,
    time: "2024-01-01T00:00:00Z",
    ...extra,
  });
  const t = epochTable([record(1, { best: true }), record(2, { valKl: 3.25, valAuroc: null, imagesPerSecond: 80.4 })]);
  assert.deepEqual(t.columns, EPOCH_COLUMNS);
  assert.deepEqual(t.rows, [
    [1, 0.01, 0.02, 0.9, "–", 12.5, 118, "★"],
    [2, 0.005, 0.01, null, 3.25, 12.5, 80, ""],
  ]);
  assert.deepEqual(epochTable([]).rows, []);
});

test("detectorPartsTable: each fitted part with what it was fitted on and its size; the fit in the caption", () => {
  const density = { count: 100, kept: [0, 1, 2], dropped: ["enc1.sd7"], shrinkage: 0.123456 } as GaussianDensity;
  const adapted = { count: 160, fittedOn: "train + 60 pseudo-normals" } as GaussianDensity;
  const fusion = { rule: "sum" as const, parts: ["zTopKMean", "density"], scales: {}, fittedOn: "40 references" };
  const errorStats = { height: 2, width: 2, mean: new Float32Array(4), sd: new Float32Array(4), count: 60 };
  const fit = { seconds: 13.46, savedTo: "/runs/q/best" };
  const t = detectorPartsTable({ density, densityAdapted: adapted, errorStats, fusion }, fit);
  assert.deepEqual(t.columns, ["part", "fitted on", "size"]);
  assert.deepEqual(t.rows, [
    ["density", "100 training normals", "3 features (1 constant, dropped), shrinkage 0.1235"],
    ["densityAdapted", "train + 60 pseudo-normals", "160 images"],
    ["zTopKMean error statistics", "the adapt part's pseudo-normals", "60 images"],
    ["fusion scales", "40 references", "zTopKMean + density"],
  ]);
  assert.equal(t.caption, "fitted in 13.5 s; saved to /runs/q/best");
  const without = detectorPartsTable({ density, densityAdapted: null, errorStats: null, fusion }, fit);
  assert.deepEqual(without.rows[1], ["densityAdapted", "–", "0 images"]);
  assert.deepEqual(without.rows[2], ["zTopKMean error statistics", "the adapt part's pseudo-normals", "0 images"]);
  assert.throws(() => detectorPartsTable({ density: null, densityAdapted: null, errorStats, fusion }, fit), /density/);
});

// Four 2×3 grey validation images, each a different constant grey: normal, spill, normal, spill.
const SHAPE: [number, number, number] = [2, 3, 1];
const PER = 6;
const validation = {
  data: Float32Array.from({ length: 4 * PER }, (_, i) => [0.1, 0.8, 0.3, 0.6][Math.floor(i / PER)]),
  labels: Uint8Array.of(0, 1, 0, 1),
  files: ["/v/n1.png", "/v/s1.png", "/v/n2-a-very-long-name.png", "/v/s2.jpg"],
};
const captions = (html: string) => [...html.matchAll(/<figcaption[^>]*>([^<]*)<\/figcaption>/g)].map((m) => m[1]);
const imageData = (html: string) => [...html.matchAll(/base64,([^"]*)"/g)].map((m) => m[1]);
const png = async (k: number, scale: number) =>
  Buffer.from(await toPng(validation.data.subarray(k * PER, (k + 1) * PER), SHAPE, { scale })).toString("base64");

test("validationExamplesGrid: the normals first, then the spills, each scaled and captioned", async () => {
  const html = await validationExamplesGrid(validation, SHAPE, { perClass: 2, scale: 2, columns: 2 });
  assert.match(html, /grid-template-columns:repeat\(2,auto\)/);
  assert.deepEqual(captions(html), ["normal n1", "normal n2-a-very-lon…", "spill s1", "spill s2"]);
  assert.deepEqual(imageData(html), [await png(0, 2), await png(2, 2), await png(1, 2), await png(3, 2)]);
  const one = await validationExamplesGrid(validation, SHAPE, { perClass: 1 });
  assert.deepEqual(captions(one), ["normal n2-a-very-lon…", "spill s2"]); // the middle one of each class
  assert.match(one, /repeat\(6,auto\)/);
});

test("reconstructionGrid: input, reconstruction and error map per image, MSE captions, scale legend", async () => {
  // A 1×1 convolution with weight 0.5: the reconstruction is half the input, the MSE of a grey g is (g / 2)².
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: SHAPE,
        filters: 1,
        kernelSize: 1,
        kernelInitializer: tf.initializers.constant({ value: 0.5 }),
        biasInitializer: "zeros",
      }),
    ],
  });
  const grid = await reconstructionGrid(model, validation, SHAPE, { perClass: 2, scale: 1 });
  model.dispose();
  const mse = (g: number) => ((g / 2) ** 2).toExponential(2);
  assert.deepEqual(captions(grid.html), [
    "normal n1",
    "reconstruction",
    `error · MSE ${mse(0.1)}`,
    "spill s1",
    "reconstruction",
    `error · MSE ${mse(0.8)}`,
    "normal n2-a-very-lon…",
    "reconstruction",
    `error · MSE ${mse(0.3)}`,
    "spill s2",
    "reconstruction",
    `error · MSE ${mse(0.6)}`,
  ]);
  const images = imageData(grid.html);
  assert.equal(images.length, 12);
  assert.deepEqual(
    [images[0], images[3], images[6], images[9]],
    [await png(0, 1), await png(1, 1), await png(2, 1), await png(3, 1)],
  );
  // the colour scale's top: a pooled percentile of the pixel errors, within their range
  assert.ok(grid.max > (0.1 / 2) ** 2 && grid.max <= (0.8 / 2) ** 2 + 1e-6, `max ${grid.max}`);
  assert.equal(
    grid.legend,
    `error colour scale: black = 0 … pale yellow ≥ ${grid.max.toExponential(2)} ` +
      "(squared error per pixel, 99th percentile of these maps)",
  );
});
