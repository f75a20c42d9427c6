/**
 * Data-parallel training: one `trainOnBatch` step of the autoencoder spread over Node `worker_threads`, one
 * TensorFlow.js backend and one replica of the model (with its Adam optimizer) per worker.
 *
 * The wasm backend runs one thread in Node, so `model.trainOnBatch` uses one core however many the machine has.
 * Here each worker starts its own backend (`initBackend()`, same choice as the main thread, `TF_BACKEND` included)
 * and builds the same model (`buildAutoencoder` with the same seed gives the same initial weights) or loads the
 * same saved folder (`loadModel`, optimizer state included). One step:
 *
 *   1. the batch is split into contiguous parts, one per worker (sizes differ by at most one image), each sent as
 *      a transferred ArrayBuffer;
 *   2. each worker computes the loss of its part and its gradient with respect to the trainable weights (the loss
 *      trainOnBatch minimises: the mean of the compiled loss, plus regularisers), flattened into one Float32Array
 *      of all weights in `model.trainableWeights` order, and transfers it back with the loss;
 *   3. the main thread sums the gradients weighted by part size / batch size, so the result is the gradient of
 *      the mean loss over the whole batch (what single-thread trainOnBatch computes, up to float summation
 *      order), and transfers a copy of it back to every worker (reusing the buffers the workers sent: after the
 *      first step neither side allocates gradient buffers);
 *   4. every worker applies the same gradient with its own Adam (`optimizer.applyGradients`), so the replicas,
 *      weights and optimizer state alike, stay bit-for-bit identical. The call resolves with the batch loss (the
 *      part losses' mean weighted by part size) once all workers have applied it.
 *
 * Per step this moves the batch once (main → workers) and 2 × (number of weights) floats per worker: for the default
 * model (32×48×3, filters 32/64/128: 333,955 weights) 1.3 MB up and 1.3 MB down per worker, against a batch of
 * 64 images of 18 KB each.
 *
 *   import { ParallelTrainer } from "../dist/lib/detector";
 *   const trainer = await ParallelTrainer.open({ height: 32, width: 48, channels: 3, seed: 1 }, { workers: 2 });
 *   //  or ParallelTrainer.open({ modelDir: "runs/r1/last" }, { workers: 2 })     to resume a saved model
 *   const loss = await trainer.trainOnBatch(batch, [32, 48, 3], 64);   // batch: 64 images, N×H×W×C floats
 *   await trainer.save("runs/r1/last", { epoch: 1 });                  // lib/checkpoint saveModel, optimizer included
 *   const weights = await trainer.getWeights();                        // Float32Array per model.getWeights() entry
 *   await trainer.close();
 *
 * Steps run one at a time in call order (a second call waits for the first). A step whose loss or gradient is not
 * finite rejects, naming the worker and its images, and applies nothing (the replicas keep the last good weights;
 * single-thread trainOnBatch would have applied it). A failure in a worker (wrong image shape, a crash, an exit)
 * rejects with an error that names the worker and the cause; a failure while applying an update leaves the replicas
 * out of step, so every later call rejects. Workers load this same file, from dist/ as plain JavaScript or from
 * the TypeScript source through tsx's CommonJS hook (see lib/detector/parallel-reconstruct.ts); an idle trainer does
 * not
 * keep the process alive, but `close()` is what frees the workers' memory.
 *
 * Written here because no library serves it: tfjs-backend-wasm has no threads under Node (tensorflow/tfjs#3830),
 * tfjs-node is an optional dependency that may not install, TensorFlow.js has no distributed or multi-replica
 * training (no tf.distribute), and a generic worker-pool package would still need the gradient exchange written
 * here.
 */
import * as os from "node:os";
import * as path from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { BackendName } from "../tf/backend";
import { errorText, startWorkers, stopWorkers, type WorkerHandle } from "../tf/worker-threads";
import type { AutoencoderConfig } from "./model";

export interface ParallelTrainerOptions {
  /** Number of worker threads; default `os.availableParallelism()`. */
  workers?: number;
  /** Backend each worker asks `initBackend` for (`TF_BACKEND` still overrides it); default that of `initBackend()`. */
  backend?: BackendName;
}

/** What the replicas start from: a model config for `buildAutoencoder` (same seed, same weights) or a saved folder. */
export type ParallelTrainerSource = Partial<AutoencoderConfig> | { modelDir: string };

type Shape = [number, number, number];

/** Timings of the last step, in milliseconds (wall clock). */
export interface StepTimes {
  /** Per worker that had a part: computing loss + gradient (forward, backward, copy out of the backend). */
  computeMs: number[];
  /** Main thread: weighting and summing the gradients, copying the sum for each worker. */
  reduceMs: number;
  /** Per worker: applying the Adam update. */
  applyMs: number[];
  /** The whole call, messages included. */
  totalMs: number;
}

/**
 * A step rejected because a worker's loss or gradient was NaN or infinite (nothing was applied): what lib/train.ts
 * reports as divergence. `worker` counts from 0; `loss` is that worker's part loss.
 */
export class NonFiniteStepError extends Error {
  constructor(
    message: string,
    readonly worker: number,
    readonly loss: number,
  ) {
    super(message);
    this.name = "NonFiniteStepError";
  }
}

/** What `open` passes to each worker. */
interface WorkerInit {
  kind: "parallel-train-worker";
  model?: Partial<AutoencoderConfig>;
  modelDir?: string;
  backend?: BackendName;
}

interface ReadyInfo {
  backend: string;
  inputShape: number[];
  paramCount: number;
  weightNames: string[];
  weightShapes: number[][];
  hash: number;
}

/** Main → worker requests (each with an id the answer carries back). */
type Request =
  | { type: "grad"; id: number; images: Float32Array; count: number; shape: Shape }
  | { type: "apply"; id: number; grads: Float32Array }
  | { type: "weights"; id: number }
  | { type: "save"; id: number; dir: string; metadata: Record<string, unknown> }
  | { type: "memory"; id: number }
  | { type: "hash"; id: number };

/** Worker → main answers. */
type Answer =
  | { type: "grad"; id: number; loss: number; grads: Float32Array; ms: number }
  | { type: "applied"; id: number; ms: number }
  | { type: "weights"; id: number; weights: Float32Array[] }
  | { type: "memory"; id: number; numTensors: number; numBytes: number }
  | { type: "hash"; id: number; hash: number }
  | { type: "done"; id: number }
  | { type: "error"; id: number; message: string };

type FromWorker = ({ type: "ready" } & ReadyInfo) | { type: "init-error"; message: string } | Answer;

/** A request without its id (the worker adds one). */
type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, "id"> : never) : never;

/** FNV-1a over the bytes of the arrays: equal replicas give equal hashes. */
function hashArrays(arrays: Float32Array[]): number {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193) >>> 0;
  }
  return h;
}

type TrainWorker = WorkerHandle<Answer, RequestBody>;

export class ParallelTrainer {
  private closed = false;
  /** Set when the replicas may no longer be identical (an update reached some workers only). */
  private broken: string | null = null;
  /** Steps, reads and saves run one after the other, in call order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Timings of the last finished step; null before the first. */
  lastStep: StepTimes | null = null;

  private constructor(
    private readonly workers: TrainWorker[],
    /** The backend the workers run (they all make the same choice). */
    readonly backend: string,
    /** The image shape the model takes, [height, width, channels]. */
    readonly inputShape: Shape,
    /** Number of trainable weights (floats in each gradient message). */
    readonly paramCount: number,
    /** Names and shapes of the arrays `getWeights` returns, in `model.getWeights()` order. */
    readonly weightNames: string[],
    readonly weightShapes: number[][],
  ) {}

  /** Start the workers and build (or load) the model in each; rejects (and stops them all) if any cannot. */
  static async open(source: ParallelTrainerSource, options: ParallelTrainerOptions = {}): Promise<ParallelTrainer> {
    const count = options.workers ?? os.availableParallelism();
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`ParallelTrainer: workers must be a whole number ≥ 1, got ${count}`);
    const init: WorkerInit =
      "modelDir" in source && typeof source.modelDir === "string"
        ? { kind: "parallel-train-worker", modelDir: path.resolve(source.modelDir), backend: options.backend }
        : {
            kind: "parallel-train-worker",
            model: { ...(source as Partial<AutoencoderConfig>) },
            backend: options.backend,
          };
    const group = await startWorkers<ReadyInfo, Answer, RequestBody>(__filename, init, count, "ParallelTrainer worker");
    const started = group.map((g) => g.handle);
    const infos = group.map((g) => g.ready);
    const stopAll = () => stopWorkers(started);
    const first = infos[0];
    const shape = first.inputShape.slice(1);
    const from = init.modelDir ?? "the model config";
    if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      await stopAll();
      throw new Error(
        `ParallelTrainer: the model from ${from} takes input ${JSON.stringify(first.inputShape)}, ` +
          "not [batch, height, width, channels] images",
      );
    }
    const odd = infos.findIndex((info) => info.hash !== first.hash || info.paramCount !== first.paramCount);
    if (odd > 0) {
      await stopAll();
      throw new Error(
        `ParallelTrainer: ${started[odd].label} starts from other weights than worker 1 (is the model config seeded?)`,
      );
    }
    return new ParallelTrainer(
      started,
      first.backend,
      shape as Shape,
      first.paramCount,
      first.weightNames,
      first.weightShapes,
    );
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /** Run f after every call made before it has settled. */
  private enqueue<T>(what: string, f: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`ParallelTrainer: ${what} called after close()`));
    const run = this.chain.then(() => {
      if (this.closed) throw new Error(`ParallelTrainer: ${what} called after close()`);
      if (this.broken !== null)
        throw new Error(
          `ParallelTrainer: the replicas are out of step (${this.broken}); close it and reopen from a checkpoint`,
        );
      const dead = this.workers.find((w) => w.dead !== null);
      if (dead) throw dead.notRunning();
      return f();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * One training step on `count` images of `shape` (the first `count` images of `batch`; default all of them):
   * the equivalent of `model.trainOnBatch(x, x)`. Resolves with the batch loss once every replica has applied the
   * update; rejects with a `NonFiniteStepError` (nothing applied) when a part's loss or gradient is not finite.
   * The images are copied before this returns: `batch` is left untouched and the caller may refill it at once
   * (say, prepare the next batch while this step runs).
   */
  trainOnBatch(batch: Float32Array, shape: Shape, count?: number): Promise<number> {
    const [h, w, c] = shape;
    const per = h * w * c;
    const n = count ?? batch.length / per;
    if (this.inputShape.join() !== shape.join())
      return Promise.reject(
        new Error(
          `ParallelTrainer.trainOnBatch: the model expects ${this.inputShape.join("×")} images, got ${shape.join("×")}`,
        ),
      );
    if (!Number.isInteger(n) || n < 1)
      return Promise.reject(
        new Error(
          count === undefined
            ? `ParallelTrainer.trainOnBatch: ${batch.length} values is not a whole, non-zero number ` +
                `of ${shape.join("×")} images`
            : `ParallelTrainer.trainOnBatch: count must be a whole number ≥ 1, got ${count}`,
        ),
      );
    if (batch.length < n * per)
      return Promise.reject(
        new Error(`ParallelTrainer.trainOnBatch: ${batch.length} values cannot hold ${n} images of ${shape.join("×")}`),
      );
    // Copy the parts now: the caller may refill its batch buffer as soon as this returns.
    const k = Math.min(this.workers.length, n);
    const base = Math.floor(n / k);
    const extra = n % k;
    const parts: { start: number; size: number; images: Float32Array }[] = [];
    for (let i = 0, start = 0; i < k; i++) {
      const size = base + (i < extra ? 1 : 0);
      parts.push({ start, size, images: batch.slice(start * per, (start + size) * per) });
      start += size;
    }
    return this.enqueue("trainOnBatch", () => this.step(parts, n, shape));
  }

  private async step(
    parts: { start: number; size: number; images: Float32Array }[],
    n: number,
    shape: Shape,
  ): Promise<number> {
    const t0 = performance.now();
    const range = (i: number) => `images ${parts[i].start + 1}–${parts[i].start + parts[i].size} of ${n}`;
    // 1–2: every worker with a part computes its loss and gradient.
    const answers = await Promise.all(
      parts.map((p, i) =>
        this.workers[i].request({ type: "grad", images: p.images, count: p.size, shape }, "grad", [
          p.images.buffer as ArrayBuffer,
        ]),
      ),
    );
    const bad = answers.findIndex((a) => !Number.isFinite(a.loss));
    if (bad >= 0)
      throw new NonFiniteStepError(
        `${this.workers[bad].label}: the loss of its part (${range(bad)}) is ${answers[bad].loss}; no update applied`,
        bad,
        answers[bad].loss,
      );
    let loss = 0;
    answers.forEach((a, i) => (loss += (a.loss * parts[i].size) / n));

    // 3: weighted sum into the first gradient buffer, then a copy of it for every other worker.
    const t1 = performance.now();
    const grads = answers.map((a) => a.grads);
    for (const [i, g] of grads.entries())
      if (g.length !== this.paramCount)
        throw new Error(`${this.workers[i].label}: sent ${g.length} gradient values, expected ${this.paramCount}`);
    const sum = grads[0];
    if (grads.length > 1) {
      const weights = parts.map((p) => p.size / n);
      const P = this.paramCount;
      if (grads.length === 2) {
        const [a, b] = grads;
        const [wa, wb] = weights;
        for (let j = 0; j < P; j++) a[j] = wa * a[j] + wb * b[j];
      } else {
        for (let j = 0; j < P; j++) {
          let s = 0;
          for (let i = 0; i < grads.length; i++) s += weights[i] * grads[i][j];
          sum[j] = s;
        }
      }
    }
    let finite = true;
    for (let j = 0; j < sum.length && finite; j++) finite = Number.isFinite(sum[j]);
    if (!finite) {
      // sum[] is overwritten; the other buffers are not, and the first part's gradient is non-finite if the sum is
      // and no other part's is.
      const culprit = grads.findIndex((g, i) => i > 0 && !g.every(Number.isFinite));
      const i = culprit > 0 ? culprit : 0;
      throw new NonFiniteStepError(
        `${this.workers[i].label}: the gradient of its part (${range(i)}) holds NaN or Infinity; no update applied`,
        i,
        answers[i].loss,
      );
    }
    const outgoing = this.workers.map((_, i) => {
      if (i === 0) return sum;
      const own = grads[i]; // send each worker's buffer back to it, now holding the sum
      if (own) {
        own.set(sum);
        return own;
      }
      return sum.slice();
    });
    const t2 = performance.now();

    // 4: every replica applies the same update.
    const applied = await Promise.allSettled(
      this.workers.map((w, i) =>
        w.request({ type: "apply", grads: outgoing[i] }, "applied", [outgoing[i].buffer as ArrayBuffer]),
      ),
    );
    const failed = applied.findIndex((r) => r.status === "rejected");
    if (failed >= 0) {
      const why = errorText((applied[failed] as PromiseRejectedResult).reason);
      // Some replicas may have applied it, or part of it: they can no longer be assumed identical.
      this.broken = `applying an update failed: ${why}`;
      throw new Error(why);
    }
    this.lastStep = {
      computeMs: answers.map((a) => a.ms),
      reduceMs: t2 - t1,
      applyMs: applied.map((r) => (r as PromiseFulfilledResult<{ ms: number }>).value.ms),
      totalMs: performance.now() - t0,
    };
    return loss;
  }

  /** The model's weights (model.getWeights() order, see `weightNames`), from worker `worker` (default the first). */
  getWeights(worker = 0): Promise<Float32Array[]> {
    return this.enqueue(
      "getWeights",
      async () => (await this.at(worker).request({ type: "weights" }, "weights")).weights,
    );
  }

  /** Save the model (weights and Adam state) with lib/checkpoint `saveModel`, from the first worker. */
  save(dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
    return this.enqueue("save", async () => {
      await this.workers[0].request({ type: "save", dir: path.resolve(dir), metadata }, "done");
    });
  }

  /** `tf.memory()` of each worker's engine: its tensor count stays the same from step to step unless a step leaks. */
  memory(): Promise<{ numTensors: number; numBytes: number }[]> {
    return this.enqueue("memory", () =>
      Promise.all(
        this.workers.map(async (w) => {
          const m = await w.request({ type: "memory" }, "memory");
          return { numTensors: m.numTensors, numBytes: m.numBytes };
        }),
      ),
    );
  }

  /** Rejects unless every replica holds exactly the same weights (a check; the design keeps them identical). */
  checkReplicas(): Promise<void> {
    return this.enqueue("checkReplicas", async () => {
      const hashes = await Promise.all(this.workers.map(async (w) => (await w.request({ type: "hash" }, "hash")).hash));
      const odd = hashes.findIndex((x) => x !== hashes[0]);
      if (odd > 0) throw new Error(`ParallelTrainer: ${this.workers[odd].label} holds other weights than worker 1`);
    });
  }

  private at(i: number): TrainWorker {
    const w = this.workers[i];
    if (!Number.isInteger(i) || !w)
      throw new Error(`ParallelTrainer: no worker ${i} (it has ${this.workers.length}, numbered from 0)`);
    return w;
  }

  /** Stop the workers; pending calls reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await stopWorkers(this.workers);
  }
}

/** The worker side: start a backend, build or load the model, then answer requests one at a time. */
async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  // Loaded here, not at the top, so that the main thread does not load TensorFlow.js just to hold a trainer.
  const tf = require("@tensorflow/tfjs") as typeof import("@tensorflow/tfjs");
  let model: import("@tensorflow/tfjs").LayersModel;
  let saveModel: typeof import("./checkpoint").saveModel;
  let vars: import("@tensorflow/tfjs").Variable[];
  let optimizer: import("@tensorflow/tfjs").Optimizer;
  let lossFn: (
    yTrue: import("@tensorflow/tfjs").Tensor,
    yPred: import("@tensorflow/tfjs").Tensor,
  ) => import("@tensorflow/tfjs").Tensor;
  try {
    const { initBackend } = require("../tf/backend") as typeof import("../tf/backend");
    const checkpoint = require("./checkpoint") as typeof import("./checkpoint");
    const { buildAutoencoder } = require("./model") as typeof import("./model");
    saveModel = checkpoint.saveModel;
    const backend = await initBackend(init.backend);
    model =
      init.modelDir !== undefined ? await checkpoint.loadModel(init.modelDir) : buildAutoencoder(init.model ?? {});
    if (model.inputs.length !== 1 || model.outputs.length !== 1)
      throw new Error(
        `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; ` +
          "ParallelTrainer trains single-input, single-output models",
      );
    if (!model.optimizer || typeof model.optimizer === "string" || !model.lossFunctions?.length)
      throw new Error(
        `the model${init.modelDir ? ` in ${init.modelDir}` : ""} is not compiled ` +
          "(no optimizer or loss; was it saved without its training config?)",
      );
    optimizer = model.optimizer;
    lossFn = model.lossFunctions[0];
    // The variables trainOnBatch differentiates, in its order (Adam keys its state by position in this list).
    vars = model.trainableWeights.map((w) => w.read() as import("@tensorflow/tfjs").Variable);
    const weights = model.getWeights();
    const arrays = weights.map((t) => t.dataSync() as Float32Array);
    post({
      type: "ready",
      backend,
      inputShape: model.inputs[0].shape.map((d) => d ?? -1),
      paramCount: vars.reduce((s, v) => s + v.size, 0),
      weightNames: model.weights.map((w) => w.originalName),
      weightShapes: weights.map((t) => t.shape),
      hash: hashArrays(arrays),
    });
  } catch (e) {
    post({ type: "init-error", message: errorText(e) });
    return; // nothing listens on the port any more, so the thread ends
  }
  const paramCount = vars.reduce((s, v) => s + v.size, 0);
  /** The gradient buffer last sent back by the main thread, reused for the next gradient. */
  let spare: Float32Array | null = null;

  const handlers = {
    grad(r: Extract<Request, { type: "grad" }>) {
      const t0 = performance.now();
      const [h, w, c] = r.shape;
      const [mh, mw, mc] = model.inputs[0].shape.slice(1);
      if (h !== mh || w !== mw || c !== mc)
        throw new Error(`the model expects ${mh}×${mw}×${mc} images, got ${r.shape.join("×")}`);
      if (r.images.length !== r.count * h * w * c)
        throw new Error(`${r.images.length} values is not ${r.count} images of ${r.shape.join("×")}`);
      // The loss trainOnBatch minimises (tfjs-layers makeTrainFunction): mean of the compiled loss, plus regularisers.
      const { value, grads } = tf.tidy(() => {
        const x = tf.tensor4d(r.images, [r.count, h, w, c]);
        return tf.variableGrads(() => {
          const y = model.apply(x, { training: true }) as import("@tensorflow/tfjs").Tensor;
          let total = tf.mean(lossFn(x, y)) as import("@tensorflow/tfjs").Scalar;
          for (const reg of model.calculateLosses()) total = tf.add(total, reg);
          return total;
        }, vars);
      });
      try {
        const loss = value.dataSync()[0];
        const flat = spare && spare.length === paramCount ? spare : new Float32Array(paramCount);
        spare = null;
        let off = 0;
        for (const v of vars) {
          const g = grads[v.name];
          if (!g) throw new Error(`no gradient for weight ${v.name}`);
          flat.set(g.dataSync() as Float32Array, off);
          off += v.size;
        }
        post({ type: "grad", id: r.id, loss, grads: flat, ms: performance.now() - t0 }, [flat.buffer as ArrayBuffer]);
      } finally {
        value.dispose();
        tf.dispose(grads);
      }
    },
    apply(r: Extract<Request, { type: "apply" }>) {
      const t0 = performance.now();
      if (r.grads.length !== paramCount)
        throw new Error(`received ${r.grads.length} gradient values, expected ${paramCount}`);
      tf.tidy(() => {
        let off = 0;
        const list = vars.map((v) => {
          const tensor = tf.tensor(r.grads.subarray(off, off + v.size), v.shape, "float32");
          off += v.size;
          return { name: v.name, tensor };
        });
        optimizer.applyGradients(list);
      });
      spare = r.grads;
      post({ type: "applied", id: r.id, ms: performance.now() - t0 });
    },
    weights(r: Extract<Request, { type: "weights" }>) {
      const weights = model.getWeights().map((t) => (t.dataSync() as Float32Array).slice());
      post(
        { type: "weights", id: r.id, weights },
        weights.map((a) => a.buffer as ArrayBuffer),
      );
    },
    async save(r: Extract<Request, { type: "save" }>) {
      await saveModel(model, r.dir, r.metadata);
      post({ type: "done", id: r.id });
    },
    memory(r: Extract<Request, { type: "memory" }>) {
      const m = tf.memory();
      post({ type: "memory", id: r.id, numTensors: m.numTensors, numBytes: m.numBytes });
    },
    hash(r: Extract<Request, { type: "hash" }>) {
      post({ type: "hash", id: r.id, hash: hashArrays(model.getWeights().map((t) => t.dataSync() as Float32Array)) });
    },
  };

  let queue = Promise.resolve();
  port.on("message", (r: Request) => {
    queue = queue.then(async () => {
      try {
        const handler = handlers[r.type] as (r: Request) => void | Promise<void>;
        if (!handler) throw new Error(`unknown request "${(r as { type: string }).type}"`);
        await handler(r);
      } catch (e) {
        post({ type: "error", id: r.id, message: errorText(e) });
      }
    });
  });
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.kind === "parallel-train-worker") {
  workerMain(workerData as WorkerInit).catch((e) => {
    parentPort?.postMessage({ type: "init-error", message: errorText(e) } satisfies FromWorker);
  });
}
