/**
 * Training the autoencoder on normal wells: epochs of shuffled mini-batches, validation after each epoch,
 * a run log (JSON lines + TensorBoard events), best and last checkpoints, early stopping, resume, NaN guard.
 *
 *   const run = await trainAutoencoder(data, { runDir: "runs/r1", epochs: 20 }, { onBatch: p => …, onEpoch: r => … });
 *
 * A run folder holds: `log.jsonl` (one EpochRecord per line), `events.out.tfevents.*` (TensorBoard),
 * `last/` and `best/` (model.json + weights.bin, optimizer included), `state.json` (where to resume).
 * Rerunning with the same runDir resumes after the last finished epoch; `fresh: true` replaces the run.
 */
import { configDiff } from "./config";
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../common/atomic";
import { type AugmentOptions, augmentInPlace, DEFAULT_AUGMENT } from "./augment";
import { loadModel, saveModel } from "./checkpoint";
import { auroc } from "./metrics";
import { type AutoencoderConfig, buildAutoencoder, DEFAULT_MODEL, klDivergence } from "./model";
import { reconstruct } from "./predict";
import { ProgressClock } from "../common/progress";
import { mulberry32, shuffleInPlace } from "../common/random";
import { type ScoreName, scoreBatch } from "./scores";
import { TensorBoardWriter } from "../common/tensorboard";
import { gatherImages, imageCount } from "./shape";
import { indicesOf } from "./labels";
import { NonFiniteStepError, ParallelTrainer, type ParallelTrainerSource } from "./parallel-train";

export interface TrainData {
  /** Normal training images, N×H×W×C in [0, 1]. */
  train: Float32Array;
  /** Validation images (held-out normals = 0, spills = 1) for every choice: epoch, threshold, model. */
  validation: { data: Float32Array; labels: Uint8Array };
  shape: [number, number, number];
}

export interface TrainOptions {
  runDir: string;
  epochs?: number;
  batchSize?: number;
  /** Stop after this many epochs without improvement of `monitor`. */
  patience?: number;
  /** Which validation figure picks the best epoch: AUROC (ties broken by loss) or the held-out normals' loss. */
  monitor?: "val_auroc" | "val_loss";
  /** The anomaly score whose validation AUROC is tracked. */
  score?: ScoreName;
  model?: Partial<AutoencoderConfig>;
  seed?: number;
  /** Start over even if runDir holds a run. */
  fresh?: boolean;
  /** Report progress every this many batches (default 10). */
  progressEvery?: number;
  /** Jitter brightness, contrast and orientation of training images (lib/augment); true means DEFAULT_AUGMENT. */
  augment?: boolean | AugmentOptions;
  /** Stored in every checkpoint's metadata (say, which extra images joined training). */
  metadata?: Record<string, unknown>;
  /**
   * Worker threads that share each training step (lib/detector/parallel-train.ts; data-parallel, same result up to
   * float
   * summation order). 1 (default) trains in this thread; 2 on a 2-core machine nearly doubles wasm throughput.
   */
  workers?: number;
}

export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number;
  valAuroc: number | null;
  /** VAE only: mean KL divergence (nats per image) of the held-out normals' posteriors from N(0, I). */
  valKl?: number;
  seconds: number;
  imagesPerSecond: number;
  best: boolean;
  time: string;
}

export interface TrainCallbacks {
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (r: EpochRecord) => void;
  onMessage?: (text: string) => void;
}

interface RunState {
  epoch: number;
  bestEpoch: number;
  bestAuroc: number;
  bestLoss: number;
  history: EpochRecord[];
  options: TrainOptions;
  /** What the run was started with that decides the model and its training (`runSettings`); a resume must match. */
  settings?: RunSettings;
}

/**
 * The settings that make a run what it is: a resume with any other value would train a different model than the
 * one its checkpoints and metadata describe. `epochs`, `patience`, `workers` and `progressEvery` may change on resume.
 */
/** Train options with every default filled in. */
type ResolvedOptions = TrainOptions & typeof TRAIN_DEFAULTS;

export interface RunSettings {
  model: AutoencoderConfig;
  batchSize: number;
  seed: number;
  augment: AugmentOptions | null;
  score: ScoreName;
  monitor: string;
  trainImages: number;
  metadata: Record<string, unknown>;
}

function runSettings(o: ResolvedOptions, data: TrainData): RunSettings {
  const [h, w, c] = data.shape;
  const augment: AugmentOptions | null = o.augment === true ? DEFAULT_AUGMENT : o.augment ? o.augment : null;
  return {
    model: { ...DEFAULT_MODEL, ...o.model, height: h, width: w, channels: c, seed: o.model?.seed ?? o.seed },
    batchSize: o.batchSize,
    seed: o.seed,
    augment,
    score: o.score,
    monitor: o.monitor,
    trainImages: data.train.length / (h * w * c),
    metadata: o.metadata ?? {},
  };
}

/**
 * Each setting that differs, as "name: was → now" (nested fields dotted: model.filters, metadata.config.split.holdout).
 */
function settingsDiff(was: RunSettings, now: RunSettings): string[] {
  return configDiff(was, now);
}

/** A lock file in the run folder, so two trainings never write one run: refuses while another live process holds it. */
function takeLock(runDir: string, say: (t: string) => void): () => void {
  const lock = path.join(runDir, "train.lock");
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
  } catch {
    const pid = Number(fs.readFileSync(lock, "utf8"));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (alive)
      throw new Error(
        `${runDir} is being trained by another process (pid ${pid}, ${lock}); wait for it, or name another --run`,
      );
    say(`taking over ${lock} from pid ${pid}, which is no longer running`);
    fs.writeFileSync(lock, String(process.pid));
  }
  return () => fs.rmSync(lock, { force: true });
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochRecord[];
  bestEpoch: number;
  runDir: string;
  stoppedEarly: boolean;
}

export const TRAIN_DEFAULTS = {
  epochs: 20,
  batchSize: 64,
  patience: 5,
  monitor: "val_loss" as "val_loss" | "val_auroc",
  score: "mse" as ScoreName,
  seed: 1,
  progressEvery: 10,
  workers: 1,
};

function checkData(d: TrainData): void {
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  if (imageCount(d.train, d.shape, "training data") === 0) throw new Error("training data: no images");
  if (d.validation.data.length !== d.validation.labels.length * per) {
    const { data, labels } = d.validation;
    throw new Error(`validation data: ${data.length} values for ${labels.length} labels of ${d.shape.join("×")}`);
  }
  if (!d.validation.labels.some((l) => l === 0))
    throw new Error("validation data has no normal images (label 0): hold out part of train/");
}

/** Validation figures of a model: mean loss over held-out normals and AUROC of the chosen score (normals vs spills). */
async function validate(model: tf.LayersModel, data: TrainData, score: ScoreName, batchSize: number) {
  const { data: x, labels } = data.validation;
  const recon = await reconstruct(model, x, data.shape, batchSize);
  const mse = scoreBatch("mse", x, recon, data.shape);
  const normals = indicesOf(labels, 0);
  const valLoss = normals.reduce((sum, i) => sum + mse[i], 0) / normals.length;
  const scores = score === "mse" ? mse : scoreBatch(score, x, recon, data.shape);
  const hasBoth = labels.some((l) => l === 1) && labels.some((l) => l === 0);
  return { valLoss, valAuroc: hasBoth ? auroc(Array.from(labels), Array.from(scores)) : null, scores };
}

/** The held-out normals of the validation set (label 0), N×H×W×C. */
function normalImages(data: TrainData): Float32Array {
  const idx = indicesOf(data.validation.labels, 0);
  return gatherImages(data.validation.data, data.shape[0] * data.shape[1] * data.shape[2], idx);
}

export async function trainAutoencoder(
  data: TrainData,
  options: TrainOptions,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  checkData(data);
  const o = { ...TRAIN_DEFAULTS, ...options };
  const say = callbacks.onMessage ?? (() => {});
  const statePath = path.join(o.runDir, "state.json");
  const logPath = path.join(o.runDir, "log.jsonl");

  if (!(Number.isInteger(o.workers) && o.workers >= 1))
    throw new Error(`training: workers must be a positive integer, got ${o.workers}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 0))
    throw new Error(`training: epochs must be a whole number ≥ 0, got ${o.epochs}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1))
    throw new Error(`training: batchSize must be a whole number ≥ 1, got ${o.batchSize}`);
  const settings = runSettings(o, data);
  fs.mkdirSync(o.runDir, { recursive: true });
  const unlock = takeLock(o.runDir, say);
  try {
    if (o.fresh)
      for (const f of fs.readdirSync(o.runDir))
        if (f !== "train.lock") fs.rmSync(path.join(o.runDir, f), { recursive: true, force: true });
    return await trainLocked(data, o, settings, callbacks, statePath, logPath);
  } finally {
    unlock();
  }
}

async function trainLocked(
  data: TrainData,
  o: ResolvedOptions,
  settings: RunSettings,
  callbacks: TrainCallbacks,
  statePath: string,
  logPath: string,
): Promise<TrainResult> {
  const [h, w, c] = data.shape;
  const per = h * w * c;
  const n = data.train.length / per;
  const say = callbacks.onMessage ?? (() => {});
  let state: RunState;
  let model: tf.LayersModel;
  let trainerSource: ParallelTrainerSource;
  if (fs.existsSync(statePath) && fs.existsSync(path.join(o.runDir, "last", "model.json"))) {
    state = JSON.parse(fs.readFileSync(statePath, "utf8"));
    const was =
      state.settings ??
      runSettings({ ...TRAIN_DEFAULTS, ...state.options } as ResolvedOptions, { ...data, train: data.train });
    // older runs did not store the count
    const diff = settingsDiff(was, settings).filter((d) => state.settings || !d.startsWith("trainImages"));
    if (diff.length)
      throw new Error(
        `${o.runDir} was started with other settings; resuming would mix them:\n  ${diff.join("\n  ")}\n` +
          "Rerun with the run's own options, or add --fresh to start this run over",
      );
    state.settings = was;
    try {
      model = await loadModel(path.join(o.runDir, "last"));
    } catch (e) {
      const best = fs.existsSync(path.join(o.runDir, "best", "model.json"));
      const wayOut = best ? `copy ${path.join(o.runDir, "best")} over last/ to resume from the best epoch, or ` : "";
      throw new Error(
        `cannot resume ${o.runDir}: ${(e as Error).message}. Way out: ${wayOut}add --fresh to start over`,
      );
    }
    trainerSource = { modelDir: path.join(o.runDir, "last") };
    if (state.epoch >= o.epochs)
      say(
        `${o.runDir} already holds ${state.epoch} epochs (asked for ${o.epochs}): ` +
          "nothing to train; raise --epochs to go on",
      );
    else say(`resuming ${o.runDir} after epoch ${state.epoch} (best epoch ${state.bestEpoch})`);
  } else {
    model = buildAutoencoder(settings.model);
    trainerSource = settings.model;
    state = { epoch: 0, bestEpoch: 0, bestAuroc: -Infinity, bestLoss: Infinity, history: [], options: o, settings };
    if (fs.existsSync(logPath)) fs.rmSync(logPath);
  }
  const trainer =
    o.workers > 1 && state.epoch < o.epochs ? await ParallelTrainer.open(trainerSource, { workers: o.workers }) : null;
  if (trainer) say(`training on ${trainer.size} worker threads (${trainer.backend})`);
  const tb = new TensorBoardWriter(o.runDir);
  const augment = settings.augment;
  const batches = Math.ceil(n / o.batchSize);
  const batch = new Float32Array(o.batchSize * per);
  let sinceBest = state.epoch - state.bestEpoch;
  let stoppedEarly = false;

  try {
    for (let epoch = state.epoch + 1; epoch <= o.epochs; epoch++) {
      if (sinceBest >= o.patience) {
        stoppedEarly = true;
        say(`early stop: no improvement of ${o.monitor} for ${o.patience} epochs (best epoch ${state.bestEpoch})`);
        break;
      }
      const order = shuffleInPlace(
        Int32Array.from({ length: n }, (_, i) => i),
        mulberry32(o.seed * 100_003 + epoch),
      ) as Int32Array;
      const clock = new ProgressClock(n);
      const augmentRand = mulberry32(o.seed * 7_919 + epoch);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const start = b * o.batchSize;
        const size = Math.min(o.batchSize, n - start);
        for (let i = 0; i < size; i++)
          batch.set(data.train.subarray(order[start + i] * per, (order[start + i] + 1) * per), i * per);
        if (augment) augmentInPlace(batch, data.shape, size, augmentRand, augment);
        const diverged = (loss: number) =>
          new Error(
            `training diverged: loss is ${loss} at epoch ${epoch}, batch ${b + 1}/${batches} (run ${o.runDir}; ` +
              (epoch > 1
                ? `the last good checkpoint, epoch ${epoch - 1}, is in last/`
                : "no checkpoint was saved yet") +
              `). Lower the learning rate (--lr) or check the input data.`,
          );
        let loss: number;
        if (trainer) {
          try {
            loss = await trainer.trainOnBatch(batch, data.shape, size);
          } catch (e) {
            if (e instanceof NonFiniteStepError) throw diverged(e.loss);
            throw e;
          }
        } else {
          const x = tf.tensor4d(batch.subarray(0, size * per), [size, h, w, c]);
          loss = (await model.trainOnBatch(x, x)) as number;
          x.dispose();
        }
        if (!Number.isFinite(loss)) throw diverged(loss);
        lossSum += loss * size;
        if (callbacks.onBatch && ((b + 1) % o.progressEvery === 0 || b === batches - 1)) {
          const t = clock.tick(start + size);
          callbacks.onBatch({
            epoch,
            epochs: o.epochs,
            batch: b + 1,
            batches,
            loss,
            imagesPerSecond: t.rate,
            etaSeconds: t.etaSeconds,
          });
        }
      }
      const trainSeconds = clock.tick(n).elapsedSeconds;
      if (trainer) {
        // the replicas hold the weights (and Adam's state): copy the weights here for validation
        const weights = (await trainer.getWeights()).map((a, i) => tf.tensor(a, trainer.weightShapes[i]));
        model.setWeights(weights);
        tf.dispose(weights);
      }
      const v = await validate(model, data, o.score, 256);
      const valKl = klDivergence(model, normalImages(data), data.shape);
      const auc = v.valAuroc ?? -Infinity;
      const improved =
        o.monitor === "val_loss"
          ? v.valLoss < state.bestLoss
          : auc > state.bestAuroc || (auc === state.bestAuroc && v.valLoss < state.bestLoss);
      const record: EpochRecord = {
        epoch,
        loss: lossSum / n,
        valLoss: v.valLoss,
        valAuroc: v.valAuroc,
        ...(valKl !== null ? { valKl } : {}),
        seconds: trainSeconds,
        imagesPerSecond: n / trainSeconds,
        best: improved,
        time: new Date().toISOString(),
      };
      if (improved) {
        state.bestEpoch = epoch;
        state.bestAuroc = auc;
        state.bestLoss = v.valLoss;
        sinceBest = 0;
      } else sinceBest++;
      const meta = {
        ...settings.metadata,
        epoch,
        shape: data.shape,
        score: settings.score,
        augment,
        valLoss: v.valLoss,
        valAuroc: v.valAuroc,
        model: settings.model,
      };
      // with workers, save from a replica: the optimizer's state lives there
      const save = (dir: string) => (trainer ? trainer.save(dir, meta) : saveModel(model, dir, meta));
      if (improved) await save(path.join(o.runDir, "best"));
      await save(path.join(o.runDir, "last"));
      state.epoch = epoch;
      state.history.push(record);
      writeFileAtomic(statePath, JSON.stringify(state, null, 1));
      fs.appendFileSync(logPath, `${JSON.stringify(record)}\n`);
      tb.scalar("loss/train", record.loss, epoch);
      tb.scalar("loss/validation", record.valLoss, epoch);
      if (v.valAuroc !== null) tb.scalar("validation/auroc", v.valAuroc, epoch);
      if (valKl !== null) tb.scalar("loss/validation_kl", valKl, epoch);
      tb.scalar("speed/images_per_second", record.imagesPerSecond, epoch);
      callbacks.onEpoch?.(record);
    }
  } finally {
    await trainer?.close();
  }
  const best = fs.existsSync(path.join(o.runDir, "best", "model.json"))
    ? await loadModel(path.join(o.runDir, "best"))
    : model;
  if (best !== model) model.dispose();
  return { model: best, history: state.history, bestEpoch: state.bestEpoch, runDir: o.runDir, stoppedEarly };
}

/** The epoch records of a run folder (for charts), read from its log. */
export function readRunLog(runDir: string): EpochRecord[] {
  const logPath = path.join(runDir, "log.jsonl");
  if (!fs.existsSync(logPath)) throw new Error(`no training log at ${logPath}`);
  return fs
    .readFileSync(logPath, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
