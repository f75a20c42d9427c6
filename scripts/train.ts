/**
 * Train the spill detector's autoencoder from the command line (the notebook runs the same code).
 *
 *   npm run train -- --run runs/default         # the detector of experiments/PROTOCOL-3.md: BN + LeakyReLU AE, 8 epochs
 *   npm run train -- --blocks plain --epochs 12 --run runs/plain   # the original ReLU net
 *   npm run train -- --model vae --run runs/vae                     # a variational autoencoder (ELBO; KL in the log)
 *   npm run train -- --epochs 20 --run runs/default
 *   npm run train -- --data /path/to/wells --size 32x48 --channels 3 --filters 32,64,128 --batch 64 --fresh
 *   npm run train -- --augment --run runs/augmented      # brightness/contrast/flip jitter
 *   npm run train -- --geometric --run runs/geometric    # the same plus zoom ±12 % and shift ±2 px
 *   npm run train -- --adapt-pool models/wells-ae --run runs/adapted   # + likely-normal unlabelled pool images
 *   npm run train -- --limit 2000 --epochs 3 --run runs/quick       # a short run
 *   npm run train -- --workers 1 --run runs/one-thread              # default "auto": one worker thread per core on wasm/cpu
 *
 * Rerunning with the same --run resumes after its last finished epoch; --fresh starts over.
 */
import * as os from "node:os";
import { parseArgs } from "node:util";
import { prepareWells } from "../lib/dataset";
import { bar, formatDuration } from "../lib/progress";
import { initBackend } from "../lib/tf/backend";
import { trainAutoencoder, TRAIN_DEFAULTS } from "../lib/train";
import { ScoreName } from "../lib/scores";
import { GEOMETRIC_AUGMENT } from "../lib/augment";
import { loadModel, readModelMetadata } from "../lib/checkpoint";
import { loadCached } from "../lib/image-cache";
import { pseudoNormalImages, splitPool } from "../lib/pool";
import { BLOCK_KINDS, MODEL_KINDS, type BlockKind, type ModelKind } from "../lib/model";
import { DETECTOR_TRAINING } from "../lib/detector";

export function parseSize(text: string): { height: number; width: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`--size must look like HEIGHTxWIDTH (e.g. 32x48), got "${text}"`);
  return { height: Number(m[1]), width: Number(m[2]) };
}

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: "string" },
      run: { type: "string", default: "runs/default" },
      epochs: { type: "string", default: String(DETECTOR_TRAINING.epochs) },
      batch: { type: "string", default: String(TRAIN_DEFAULTS.batchSize) },
      patience: { type: "string", default: String(TRAIN_DEFAULTS.patience) },
      size: { type: "string", default: "32x48" },
      channels: { type: "string", default: "3" },
      filters: { type: "string", default: "32,64,128" },
      lr: { type: "string", default: "0.001" },
      loss: { type: "string", default: "mse" },
      monitor: { type: "string", default: TRAIN_DEFAULTS.monitor },
      score: { type: "string", default: TRAIN_DEFAULTS.score },
      seed: { type: "string", default: "1" },
      holdout: { type: "string", default: "0.1" },
      limit: { type: "string" },
      backend: { type: "string" },
      fresh: { type: "boolean", default: false },
      augment: { type: "boolean", default: false },
      geometric: { type: "boolean", default: false },
      "adapt-pool": { type: "string" },
      "adapt-keep": { type: "string", default: "0.9" },
      workers: { type: "string", default: "auto" },
      model: { type: "string", default: DETECTOR_TRAINING.kind },
      blocks: { type: "string", default: DETECTOR_TRAINING.blocks },
      latent: { type: "string", default: "32" },
    },
  });
  if (!MODEL_KINDS.includes(values.model as ModelKind)) throw new Error(`--model must be one of ${MODEL_KINDS.join(", ")}, got "${values.model}"`);
  if (!BLOCK_KINDS.includes(values.blocks as BlockKind)) throw new Error(`--blocks must be one of ${BLOCK_KINDS.join(", ")}, got "${values.blocks}"`);
  const backend = await initBackend(values.backend as "wasm" | "cpu" | "tensorflow" | undefined);
  // wasm and cpu use one thread per backend: one worker per core shares each step (the native backend is multi-threaded)
  const workers = values.workers === "auto" ? (backend === "tensorflow" ? 1 : os.availableParallelism()) : Number(values.workers);
  console.log(`backend: ${backend}, ${workers} worker thread${workers === 1 ? "" : "s"}`);
  const channels = Number(values.channels) as 1 | 3;
  const size = { ...parseSize(values.size!), channels };
  const decodeStart = Date.now();
  const ds = await prepareWells({
    root: values.data,
    size,
    holdoutFraction: Number(values.holdout),
    seed: Number(values.seed),
    trainLimit: values.limit ? Number(values.limit) : undefined,
    onProgress: (what, done, total) => {
      if (done === total || done % 1000 === 0) process.stdout.write(`\rdecoding ${what} ${bar(done / total)} ${done}/${total}   `);
    },
  });
  console.log(`\ndecoded or read from the image cache in ${((Date.now() - decodeStart) / 1000).toFixed(2)} s`);
  console.log(
    `train ${ds.trainItems.length} normal images; validation ${ds.split.heldOut} held-out normals + ${ds.list.spill.length} spills; ` +
      `input ${size.height}×${size.width}×${channels}`,
  );
  if (values["adapt-pool"]) {
    // experiments/PROTOCOL-2.md: the pool's adapt part joins training without labels; the judging model picks the likely normals
    const judge = await loadModel(values["adapt-pool"]);
    const judgeMeta = readModelMetadata(values["adapt-pool"]) as { score?: ScoreName; shape: number[] };
    if (judgeMeta.shape.join("x") !== ds.trainData.shape.join("x")) throw new Error(`--adapt-pool: model input ${judgeMeta.shape.join("×")} differs from ${ds.trainData.shape.join("×")}`);
    const adapt = await loadCached(splitPool(ds.list.test).adapt, size);
    const picked = await pseudoNormalImages(judge, adapt.data, ds.trainData.shape, judgeMeta.score ?? "topKMean", Number(values["adapt-keep"]));
    judge.dispose();
    const merged = new Float32Array(ds.trainData.train.length + picked.images.length);
    merged.set(ds.trainData.train);
    merged.set(picked.images, ds.trainData.train.length);
    ds.trainData.train = merged;
    console.log(`adapt pool: ${picked.kept} of ${picked.total} unlabelled images kept (score ≤ ${picked.limit.toPrecision(4)}), training on ${merged.length / (size.height * size.width * channels)} images`);
  }
  const result = await trainAutoencoder(
    ds.trainData,
    {
      runDir: values.run!,
      epochs: Number(values.epochs),
      batchSize: Number(values.batch),
      patience: Number(values.patience),
      monitor: values.monitor as "val_loss" | "val_auroc",
      score: values.score as ScoreName,
      seed: Number(values.seed),
      fresh: values.fresh,
      workers,
      augment: values.geometric ? GEOMETRIC_AUGMENT : values.augment,
      metadata: values["adapt-pool"] ? { trainedOnPool: "adapt", adaptKeep: Number(values["adapt-keep"]), adaptJudge: values["adapt-pool"] } : {},
      model: {
        filters: values.filters!.split(",").map(Number), learningRate: Number(values.lr), loss: values.loss as "mse" | "mae",
        kind: values.model as ModelKind, blocks: values.blocks as BlockKind, ...(values.model === "vae" ? { latent: Number(values.latent) } : {}),
      },
    },
    {
      onMessage: (t) => console.log(t),
      onBatch: (p) =>
        process.stdout.write(
          `\repoch ${p.epoch}/${p.epochs} ${bar(p.batch / p.batches)} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(5)} ` +
            `${p.imagesPerSecond.toFixed(0)} img/s ETA ${formatDuration(p.etaSeconds)}   `,
        ),
      onEpoch: (r) =>
        console.log(
          `\repoch ${r.epoch}: loss ${r.loss.toFixed(5)} val_loss ${r.valLoss.toFixed(5)} val_auroc ${r.valAuroc?.toFixed(4) ?? "-"} ` +
            (r.valKl !== undefined ? `val_kl ${r.valKl.toFixed(2)} ` : "") +
            `${r.seconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(0)} img/s)${r.best ? " *best*" : ""}` + " ".repeat(30),
        ),
    },
  );
  console.log(`best epoch ${result.bestEpoch}; checkpoints in ${result.runDir}/best and ${result.runDir}/last; log ${result.runDir}/log.jsonl`);
}

if (require.main === module)
  main().catch((e) => {
    console.error(`\n✖ ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
