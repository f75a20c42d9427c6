/**
 * Train the spill detector's autoencoder from the command line (the notebook runs the same code).
 *
 *   npm run train -- --run runs/default   # the detector of experiments/PROTOCOL-3.md: BN + LeakyReLU AE, 8 epochs
 *   npm run train -- --blocks plain --epochs 12 --run runs/plain   # the original ReLU net
 *   npm run train -- --model vae --run runs/vae                     # a variational autoencoder (ELBO; KL in the log)
 *   npm run train -- --epochs 20 --run runs/default
 *   npm run train -- --data /path/to/wells --size 32x48 --channels 3 --filters 32,64,128 --batch 64 --fresh
 *   npm run train -- --augment --run runs/augmented      # brightness/contrast/flip jitter
 *   npm run train -- --geometric --run runs/geometric    # the same plus zoom ±12 % and shift ±2 px
 *   npm run train -- --adapt-pool models/wells-ae --run runs/adapted   # + likely-normal unlabelled pool images
 *   npm run train -- --limit 2000 --epochs 3 --run runs/quick       # a short run
 *   npm run train -- --workers 1 --run runs/one-thread   # default "auto": one worker thread per core on wasm/cpu
 *
 * Rerunning with the same --run resumes after its last finished epoch; --fresh starts over.
 */
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommand, runMain, UsageError, workerCount, type CommandSpec, type OptionSpec } from "./options";
import { prepareWells } from "../lib/detector/dataset";
import { bar } from "../lib/common/progress";
import { batchProgressText } from "../lib/report/training";
import { initBackend } from "../lib/tf/backend";
import { trainAutoencoder, TRAIN_DEFAULTS } from "../lib/detector/train";
import { SCORE_NAMES, type ScoreName } from "../lib/detector/scores";
import { GEOMETRIC_AUGMENT } from "../lib/detector/augment";
import { loadModel, readModelMetadata } from "../lib/detector/checkpoint";
import { loadCached } from "../lib/detector/image-cache";
import { pseudoNormalImages, splitPool } from "../lib/detector/pool";
import { countChannels } from "../lib/detector/wells";
import { BLOCK_KINDS, DEFAULT_MODEL, MODEL_KINDS, validateConfig } from "../lib/detector/model";
import { DETECTOR_CONFIG, DETECTOR_EPOCHS, type DetectorConfig } from "../lib/detector/config";

export const TRAIN_COMMAND = {
  name: "train",
  summary: "Train the spill detector's autoencoder on the normal images of a dataset folder (any layout of lib/wells).",
  usage: "npm run train -- [--run runs/<name>] [options]",
  options: {
    data: { type: "string", help: "dataset folder (default: data/wells or ../shared/data/wells)" },
    run: { type: "string", default: "runs/default", help: "run folder: checkpoints, log.jsonl, TensorBoard events" },
    epochs: {
      type: "int",
      min: 0,
      max: 100_000,
      default: DETECTOR_EPOCHS,
      help: "train up to this many epochs (a resume may raise it)",
    },
    batch: { type: "int", min: 1, max: 4096, default: TRAIN_DEFAULTS.batchSize, help: "images per training step" },
    patience: {
      type: "int",
      min: 1,
      max: 100_000,
      default: TRAIN_DEFAULTS.patience,
      help: "stop after this many epochs without improvement",
    },
    size: {
      type: "size",
      default: `${DETECTOR_CONFIG.height}x${DETECTOR_CONFIG.width}`,
      help: "input HEIGHTxWIDTH the images are resized to",
    },
    channels: {
      type: "choice",
      choices: ["1", "3"],
      default: String(DETECTOR_CONFIG.channels),
      help: "input channels (grey images are expanded, colour ones converted)",
    },
    filters: { type: "ints", default: DETECTOR_CONFIG.filters, help: "filters per encoder block" },
    lr: { type: "float", above: 0, max: 1, default: 0.001, help: "Adam learning rate" },
    loss: { type: "choice", choices: ["mse", "mae"], default: "mse", help: "reconstruction loss" },
    model: {
      type: "choice",
      choices: MODEL_KINDS,
      default: DETECTOR_CONFIG.kind,
      help: "autoencoder or variational autoencoder",
    },
    blocks: { type: "choice", choices: BLOCK_KINDS, default: DETECTOR_CONFIG.blocks, help: "encoder/decoder blocks" },
    latent: { type: "int", min: 1, max: 4096, default: 32, help: "latent units of the VAE (--model vae only)" },
    monitor: {
      type: "choice",
      choices: ["val_loss", "val_auroc"],
      default: TRAIN_DEFAULTS.monitor,
      help: "validation figure that picks the best epoch",
    },
    score: {
      type: "choice",
      choices: SCORE_NAMES,
      default: TRAIN_DEFAULTS.score,
      help: "score whose validation AUROC is logged",
    },
    seed: {
      type: "int",
      min: 0,
      max: 2 ** 31 - 1,
      default: DETECTOR_CONFIG.split.seed,
      help: "seed of the split, the shuffles and the initial weights",
    },
    holdout: {
      type: "float",
      min: 0,
      max: 0.9,
      default: DETECTOR_CONFIG.split.holdout,
      help: "share of distinct normal images held out for validation",
    },
    limit: { type: "int", min: 2, help: "train on a seeded subset of this many images" },
    backend: {
      type: "choice",
      choices: ["wasm", "cpu", "tensorflow"],
      help: "TensorFlow.js backend (default: the fastest that loads)",
    },
    workers: {
      type: "string",
      default: "auto",
      help: "worker threads sharing each step: auto (one per core) or a number ≤ the cores",
    },
    fresh: { type: "boolean", help: "start the run over instead of resuming it" },
    augment: { type: "boolean", help: "brightness / contrast / flip jitter" },
    geometric: { type: "boolean", help: "--augment plus zoom ±12 % and shift ±2 px" },
    "adapt-pool": {
      type: "string",
      help: "a model folder that picks likely-normal unlabelled pool images to add to training",
    },
    "adapt-keep": { type: "float", above: 0, max: 1, default: 0.9, help: "share of the pool kept by --adapt-pool" },
  },
  examples: [
    "npm run train -- --run runs/a",
    "npm run train -- --limit 1000 --epochs 2 --run runs/quick --fresh",
    "npm run train -- --model vae --run runs/vae",
  ],
} as const satisfies CommandSpec<Record<string, OptionSpec>>;

async function main() {
  const { values } = parseCommand(TRAIN_COMMAND);
  if (values["adapt-pool"] && !fs.existsSync(path.join(values["adapt-pool"], "model.json")))
    throw new UsageError(`--adapt-pool ${values["adapt-pool"]}: no model.json there`);
  if (values.data && !fs.existsSync(values.data)) throw new UsageError(`--data ${values.data}: no such folder`);
  try {
    validateConfig({
      ...DEFAULT_MODEL,
      height: values.size.height,
      width: values.size.width,
      channels: Number(values.channels),
      filters: values.filters,
    });
  } catch (e) {
    throw new UsageError(
      `--size ${values.size.height}x${values.size.width} with --filters ${values.filters.join(",")}: ` +
        (e as Error).message.replace(/^model config: /, ""),
    );
  }
  const backend = await initBackend(values.backend as "wasm" | "cpu" | "tensorflow" | undefined);
  // wasm and cpu use one thread per backend: one worker per core shares each step
  // (the native backend is multi-threaded)
  const workers = workerCount(values.workers, backend === "tensorflow" ? 1 : os.availableParallelism());
  console.log(`backend: ${backend}, ${workers} worker thread${workers === 1 ? "" : "s"}`);
  const channels = Number(values.channels) as 1 | 3;
  const size = { ...values.size, channels };
  // the run's detector config: stored in its state (a resume with another refuses) and in every checkpoint
  const config: DetectorConfig = {
    ...DETECTOR_CONFIG,
    ...values.size,
    channels,
    kind: values.model,
    blocks: values.blocks,
    filters: values.filters,
    split: { seed: values.seed, holdout: values.holdout },
  };
  const decodeStart = Date.now();
  const ds = await prepareWells({
    root: values.data,
    size,
    holdoutFraction: values.holdout,
    seed: values.seed,
    trainLimit: values.limit,
    onProgress: (what, done, total) => {
      if (done === total || done % 1000 === 0)
        process.stdout.write(`\rdecoding ${what} ${bar(done / total)} ${done}/${total}   `);
    },
  });
  console.log(`\ndecoded or read from the image cache in ${((Date.now() - decodeStart) / 1000).toFixed(2)} s`);
  console.log(
    `train ${ds.trainItems.length} normal images; ` +
      `validation ${ds.split.heldOut} held-out normals + ${ds.list.spill.length} spills; ` +
      `input ${size.height}×${size.width}×${channels}`,
  );
  const kinds = await countChannels(ds.trainItems);
  if (kinds.grey > 0 && kinds.colour > 0)
    console.log(
      `${kinds.grey} grey and ${kinds.colour} colour training images: ` +
        (channels === 3 ? "grey ones are expanded to 3 channels" : "colour ones are converted to grey"),
    );
  else
    console.log(
      `all ${ds.trainItems.length} training images are ${kinds.grey ? "grey" : "colour"}` +
        ((kinds.grey ? 1 : 3) !== channels ? ` (converted to ${channels} channel${channels === 1 ? "" : "s"})` : ""),
    );
  if (values["adapt-pool"]) {
    // experiments/PROTOCOL-2.md: the pool's adapt part joins training without labels;
    // the judging model picks the likely normals
    const judge = await loadModel(values["adapt-pool"]);
    const judgeMeta = readModelMetadata(values["adapt-pool"]) as { score?: ScoreName; shape: number[] };
    if (judgeMeta.shape.join("x") !== ds.trainData.shape.join("x"))
      throw new Error(
        `--adapt-pool: model input ${judgeMeta.shape.join("×")} differs from ${ds.trainData.shape.join("×")}`,
      );
    const adapt = await loadCached(splitPool(ds.list.test).adapt, size);
    const judgeScore = (SCORE_NAMES as readonly string[]).includes(judgeMeta.score ?? "")
      ? (judgeMeta.score as ScoreName)
      : "topKMean";
    const picked = await pseudoNormalImages(judge, adapt.data, ds.trainData.shape, judgeScore, values["adapt-keep"]);
    judge.dispose();
    const merged = new Float32Array(ds.trainData.train.length + picked.images.length);
    merged.set(ds.trainData.train);
    merged.set(picked.images, ds.trainData.train.length);
    ds.trainData.train = merged;
    console.log(
      `adapt pool: ${picked.kept} of ${picked.total} unlabelled images kept ` +
        `(score ≤ ${picked.limit.toPrecision(4)}), ` +
        `training on ${merged.length / (size.height * size.width * channels)} images`,
    );
  }
  const result = await trainAutoencoder(
    ds.trainData,
    {
      runDir: values.run!,
      epochs: values.epochs,
      batchSize: values.batch,
      patience: values.patience,
      monitor: values.monitor,
      score: values.score,
      seed: values.seed,
      fresh: values.fresh,
      workers,
      augment: values.geometric ? GEOMETRIC_AUGMENT : values.augment,
      metadata: {
        config,
        ...(values["adapt-pool"]
          ? { trainedOnPool: "adapt", adaptKeep: values["adapt-keep"], adaptJudge: values["adapt-pool"] }
          : {}),
      },
      model: {
        filters: values.filters,
        learningRate: values.lr,
        loss: values.loss,
        kind: values.model,
        blocks: values.blocks,
        ...(values.model === "vae" ? { latent: values.latent } : {}),
      },
    },
    {
      onMessage: (t) => console.log(t),
      onBatch: (p) => process.stdout.write(`\r${batchProgressText(p, { compact: true })}   `),
      onEpoch: (r) =>
        console.log(
          `\repoch ${r.epoch}: loss ${r.loss.toFixed(5)} val_loss ${r.valLoss.toFixed(5)} ` +
            `val_auroc ${r.valAuroc?.toFixed(4) ?? "-"} ` +
            (r.valKl !== undefined ? `val_kl ${r.valKl.toFixed(2)} ` : "") +
            `${r.seconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(0)} img/s)${r.best ? " *best*" : ""}` +
            " ".repeat(30),
        ),
    },
  );
  console.log(
    `best epoch ${result.bestEpoch}; checkpoints in ${result.runDir}/best and ${result.runDir}/last; ` +
      `log ${result.runDir}/log.jsonl`,
  );
}

if (require.main === module) runMain(main);
