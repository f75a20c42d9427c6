import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/tf/backend";
import { buildAutoencoder } from "../../lib/detector/model";
import { loadModel, saveModel } from "../../lib/detector/checkpoint";
import { reconstruct } from "../../lib/detector/predict";
import { ReconstructPool } from "../../lib/detector/parallel-reconstruct";

const shape: [number, number, number] = [8, 16, 3];
const per = 8 * 16 * 3;
let root: string;
let modelDir: string;
let model: tf.LayersModel;

/** n images with values in [0, 1] that differ from image to image. */
const images = (n: number) =>
  Float32Array.from({ length: n * per }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.731 + Math.floor(i / per)));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

before(async () => {
  await initBackend(); // the same choice the workers make, so both sides run the same kernels
  root = fs.mkdtempSync(path.join(os.tmpdir(), "parallel-reconstruct-test-"));
  modelDir = path.join(root, "model");
  await saveModel(buildAutoencoder({ height: 8, width: 16, channels: 3, filters: [4, 8], seed: 1 }), modelDir);
  model = await loadModel(modelDir);
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test("2 workers give what single-thread reconstruct gives, for odd chunk and batch sizes", async () => {
  const pool = await ReconstructPool.open(modelDir, { workers: 2 });
  try {
    assert.equal(pool.size, 2);
    assert.deepEqual(pool.inputShape, shape);
    const x = images(37); // chunks of 19 and 18 images, batches of 5 with remainders
    const copy = x.slice();
    const want = await reconstruct(model, x, shape, 5);
    const got = await pool.reconstruct(x, shape, 5);
    assert.ok(maxAbsDiff(got, want) <= 1e-5, `max |diff| ${maxAbsDiff(got, want)}`);
    assert.deepEqual(x, copy, "the input is left untouched (not detached by the transfer)");
    // default batch size; fewer images than workers; no images at all
    assert.ok(maxAbsDiff(await pool.reconstruct(x, shape), await reconstruct(model, x, shape)) <= 1e-5);
    const one = images(1);
    assert.ok(maxAbsDiff(await pool.reconstruct(one, shape, 3), await reconstruct(model, one, shape, 3)) <= 1e-5);
    assert.equal((await pool.reconstruct(new Float32Array(0), shape)).length, 0);
    // concurrent calls are kept apart
    const [a, b] = await Promise.all([pool.reconstruct(x, shape, 7), pool.reconstruct(one, shape)]);
    assert.ok(maxAbsDiff(a, want) <= 1e-5 && b.length === per);
  } finally {
    await pool.close();
  }
});

test("1 worker gives the same output", async () => {
  const pool = await ReconstructPool.open(modelDir, { workers: 1 });
  try {
    const x = images(37);
    assert.ok(maxAbsDiff(await pool.reconstruct(x, shape, 6), await reconstruct(model, x, shape, 6)) <= 1e-5);
  } finally {
    await pool.close();
  }
});

test("a missing model folder rejects, naming the worker and the cause", async () => {
  const missing = path.join(root, "no-such-model");
  await assert.rejects(ReconstructPool.open(missing, { workers: 2 }), (e: Error) => {
    assert.match(e.message, /^ReconstructPool worker \d\/2 could not start: no model at .*no-such-model/);
    assert.match(e.message, /model\.json is missing/);
    return true;
  });
  const broken = path.join(root, "broken");
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, "model.json"), "{ not json");
  await assert.rejects(
    ReconstructPool.open(broken, { workers: 1 }),
    /^Error: ReconstructPool worker 1\/1 could not start: .*JSON/,
  );
  await assert.rejects(ReconstructPool.open(modelDir, { workers: 0 }), /workers must be a whole number ≥ 1, got 0/);
});

test("wrong shapes reject clearly; close() stops the workers and later calls reject", async () => {
  const pool = await ReconstructPool.open(modelDir, { workers: 2 });
  await assert.rejects(pool.reconstruct(images(3), [8, 8, 3]), /the model expects 8×16×3 images, got 8×8×3/);
  await assert.rejects(pool.reconstruct(new Float32Array(per + 1), shape), /not a whole number of 8×16×3 images/);
  const inFlight = assert.rejects(
    pool.reconstruct(images(64), shape, 4),
    /ReconstructPool worker \d\/2 was stopped by close\(\)/,
  );
  await pool.close();
  await inFlight;
  await assert.rejects(pool.reconstruct(images(2), shape), /after close\(\)/);
  await pool.close(); // twice is fine
});

test("an error inside a worker, or a worker that dies, rejects naming that worker", async () => {
  const pool = await ReconstructPool.open(modelDir, { workers: 2 });
  // reach past the pool's own checks to make the worker's reconstruct throw
  const inner = (
    pool as unknown as {
      workers: {
        request(body: object, expect: string): Promise<unknown>;
        worker: import("node:worker_threads").Worker;
      }[];
    }
  ).workers;
  try {
    await assert.rejects(
      inner[1].request({ images: images(2), shape: [8, 8, 6], batchSize: 4 }, "result"),
      /^Error: ReconstructPool worker 2\/2: reconstruct: the model expects 8×16×3 images, got 8×8×6/,
    );
    const x = images(9);
    assert.ok(
      maxAbsDiff(await pool.reconstruct(x, shape), await reconstruct(model, x, shape)) <= 1e-5,
      "the worker still answers after an error",
    );
    const dying = assert.rejects(
      pool.reconstruct(images(64), shape, 4),
      /ReconstructPool worker 1\/2 exited with code 1/,
    );
    await inner[0].worker.terminate();
    await dying;
    await assert.rejects(
      pool.reconstruct(images(4), shape),
      /ReconstructPool worker 1\/2 is not running: it exited with code 1/,
    );
  } finally {
    await pool.close();
  }
});
