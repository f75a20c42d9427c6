/**
 * Data-parallel inference: `reconstruct` (lib/predict.ts) spread over Node `worker_threads`, one TensorFlow.js
 * backend and one copy of the model per worker.
 *
 * The wasm backend runs one thread in Node, so a single process uses one core however many it has. A pool of
 * workers, each with its own backend (`initBackend()`, same choice as the main thread, `TF_BACKEND` included) and
 * its own copy of a saved model (`loadModel`), splits the images into contiguous chunks, one per worker, and
 * reassembles the reconstructions in order: the output is that of `reconstruct(model, images, shape, batchSize)`.
 * Chunks go to the workers as transferred ArrayBuffers (one copy out of the caller's array, none across threads),
 * and come back the same way.
 *
 *   import { ReconstructPool } from "../dist/lib/detector";
 *   const pool = await ReconstructPool.open("runs/r1/best", { workers: 2 });   // default: os.availableParallelism()
 *   const recon = await pool.reconstruct(images, [32, 48, 3]);                // Float32Array, same layout as images
 *   await pool.close();
 *
 * Workers load this same file: from dist/ as plain JavaScript, from the TypeScript source (tests, scripts run with
 * `node --import tsx`) through tsx's CommonJS hook, since Node 20 does not apply `--import tsx` to a worker's entry
 * file. An idle pool does not keep the process alive (its workers are unref'd between calls), but `close()` is what
 * frees their memory. A failure in a worker (no model in the folder, a wrong image shape, a crash) rejects with an
 * error that names the worker and the cause.
 *
 * Written here because no library serves it: tfjs-backend-wasm switches its threaded build off under Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false there, tensorflow/tfjs#3830), tfjs-node (native, multi-threaded) is an
 * optional dependency that may not install, and a generic worker-pool package (none is a dependency here) would
 * still need the backend start-up, model loading and chunking written here.
 */
import * as os from "node:os";
import * as path from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { BackendName } from "../tf/backend";
import { errorText, startWorkers, stopWorkers, type WorkerHandle } from "../tf/worker-threads";
import { imageCount } from "./shape";

export interface ReconstructPoolOptions {
  /** Number of worker threads; default `os.availableParallelism()`. */
  workers?: number;
  /** Backend each worker asks `initBackend` for (`TF_BACKEND` still overrides it); default that of `initBackend()`. */
  backend?: BackendName;
}

type Shape = [number, number, number];

/** What `open` passes to each worker. */
interface WorkerInit {
  kind: "reconstruct-pool-worker";
  modelDir: string;
  backend?: BackendName;
}

interface ReadyInfo {
  type: "ready";
  backend: string;
  inputShape: number[];
}

/** Worker → main answers to a job. */
type Answer = { type: "result"; id: number; out: Float32Array } | { type: "error"; id: number; message: string };

/** Worker → main messages. */
type FromWorker = ReadyInfo | { type: "init-error"; message: string } | Answer;

/** Main → worker message: one chunk of images. */
interface Job {
  id: number;
  images: Float32Array;
  shape: Shape;
  batchSize: number;
}

export class ReconstructPool {
  private closed = false;

  private constructor(
    private readonly workers: WorkerHandle<Answer, Omit<Job, "id">>[],
    /** The backend the workers run (they all make the same choice). */
    readonly backend: string,
    /** The image shape the model takes, [height, width, channels]. */
    readonly inputShape: Shape,
    readonly modelDir: string,
  ) {}

  /** Start the workers and load the model in each; rejects (and stops them all) if any cannot. */
  static async open(modelDir: string, options: ReconstructPoolOptions = {}): Promise<ReconstructPool> {
    const count = options.workers ?? os.availableParallelism();
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`ReconstructPool: workers must be a whole number ≥ 1, got ${count}`);
    const dir = path.resolve(modelDir);
    const init: WorkerInit = { kind: "reconstruct-pool-worker", modelDir: dir, backend: options.backend };
    const started = await startWorkers<ReadyInfo, Answer, Omit<Job, "id">>(
      __filename,
      init,
      count,
      "ReconstructPool worker",
    );
    const infos = started.map((w) => w.ready);
    const shape = infos[0].inputShape.slice(1);
    if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d))) {
      await stopWorkers(started.map((w) => w.handle));
      throw new Error(
        `ReconstructPool: the model in ${dir} takes input ${JSON.stringify(infos[0].inputShape)}, ` +
          "not [batch, height, width, channels] images",
      );
    }
    return new ReconstructPool(
      started.map((w) => w.handle),
      infos[0].backend,
      shape as Shape,
      dir,
    );
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Reconstructions of `images` (N images of `shape`, concatenated), in the same layout: what lib/predict.ts
   * `reconstruct` returns, computed by the workers on contiguous chunks (at most one per worker), each in
   * batches of `batchSize`. `images` is left untouched.
   */
  async reconstruct(images: Float32Array, shape: Shape, batchSize = 256): Promise<Float32Array> {
    if (this.closed) throw new Error("ReconstructPool: reconstruct called after close()");
    const [h, w, c] = shape;
    const per = h * w * c;
    const n = imageCount(images, shape, "ReconstructPool.reconstruct");
    if (this.inputShape.join() !== shape.join())
      throw new Error(
        `ReconstructPool.reconstruct: the model expects ${this.inputShape.join("×")} images, got ${shape.join("×")}`,
      );
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`ReconstructPool.reconstruct: batchSize must be a whole number ≥ 1, got ${batchSize}`);
    const out = new Float32Array(images.length);
    if (n === 0) return out;
    const k = Math.min(this.workers.length, n);
    const base = Math.floor(n / k);
    const extra = n % k;
    const parts: Promise<void>[] = [];
    let start = 0;
    for (let i = 0; i < k; i++) {
      const size = base + (i < extra ? 1 : 0);
      const from = start * per;
      const to = (start + size) * per;
      // slice copies into a fresh ArrayBuffer, which is transferred (moved, not copied) to the worker.
      const chunk = images.slice(from, to);
      parts.push(
        this.workers[i]
          .request({ images: chunk, shape, batchSize }, "result", [chunk.buffer as ArrayBuffer])
          .then((r) => out.set(r.out, from)),
      );
      start += size;
    }
    await Promise.all(parts);
    return out;
  }

  /** Stop the workers; pending calls reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await stopWorkers(this.workers);
  }
}

/** The worker side: start a backend, load the model, then answer jobs one at a time. */
async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  let model: import("@tensorflow/tfjs").LayersModel;
  let reconstruct: typeof import("./predict").reconstruct;
  try {
    // Loaded here, not at the top, so that the main thread does not load TensorFlow.js just to hold a pool.
    const { initBackend } = require("../tf/backend") as typeof import("../tf/backend");
    const { loadModel } = require("./checkpoint") as typeof import("./checkpoint");
    ({ reconstruct } = require("./predict") as typeof import("./predict"));
    const backend = await initBackend(init.backend);
    model = await loadModel(init.modelDir);
    post({ type: "ready", backend, inputShape: model.inputs[0].shape.map((d) => d ?? -1) });
  } catch (e) {
    post({ type: "init-error", message: errorText(e) });
    return; // nothing listens on the port any more, so the thread ends
  }
  let queue = Promise.resolve();
  port.on("message", (job: Job) => {
    queue = queue.then(async () => {
      try {
        const out = await reconstruct(model, job.images, job.shape, job.batchSize);
        post({ type: "result", id: job.id, out }, [out.buffer as ArrayBuffer]);
      } catch (e) {
        post({ type: "error", id: job.id, message: errorText(e) });
      }
    });
  });
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.kind === "reconstruct-pool-worker") {
  workerMain(workerData as WorkerInit).catch((e) => {
    parentPort?.postMessage({ type: "init-error", message: errorText(e) } satisfies FromWorker);
  });
}
