import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/tf/backend";
import { buildAutoencoder, type AutoencoderConfig } from "../../lib/detector/model";
import { loadModel } from "../../lib/detector/checkpoint";
import { mulberry32 } from "../../lib/common/random";
import { NonFiniteStepError, ParallelTrainer } from "../../lib/detector/parallel-train";

const config: Partial<AutoencoderConfig> = { height: 8, width: 16, channels: 3, filters: [4, 8], seed: 1 };
const shape: [number, number, number] = [8, 16, 3];
const per = 8 * 16 * 3;
const STEPS = 5;
let root: string;

/** `steps` batches of n seeded random images in [0, 1]. */
const batches = (n: number, steps: number, seed: number) => {
  const rand = mulberry32(seed);
  return Array.from({ length: steps }, () => Float32Array.from({ length: n * per }, () => rand()));
};

/** Single-thread reference: model.trainOnBatch in this thread on the same batches. */
async function reference(bs: Float32Array[], model = buildAutoencoder(config)) {
  const losses: number[] = [];
  for (const b of bs) {
    const x = tf.tensor4d(b, [b.length / per, ...shape]);
    losses.push((await model.trainOnBatch(x, x)) as number);
    x.dispose();
  }
  const weights = model.getWeights().map((t) => t.dataSync() as Float32Array);
  return { losses, weights, model };
}

/** Largest |a - b| / (|b| + 1e-3) over all weights: float summation order differs, nothing else. */
function relDiff(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  a.forEach((x, i) => {
    assert.equal(x.length, b[i].length);
    for (let j = 0; j < x.length; j++) d = Math.max(d, Math.abs(x[j] - b[i][j]) / (Math.abs(b[i][j]) + 1e-3));
  });
  return d;
}

function assertLossesClose(got: number[], want: number[]) {
  assert.equal(got.length, want.length);
  got.forEach((g, i) =>
    assert.ok(
      Math.abs(g - want[i]) <= 1e-4 * Math.abs(want[i]),
      `step ${i + 1}: loss ${g} vs single-thread ${want[i]}`,
    ),
  );
}

const ten = batches(10, STEPS, 42);
let ref10: Awaited<ReturnType<typeof reference>>;

before(async () => {
  await initBackend(); // the same choice the workers make, so both sides run the same kernels
  root = fs.mkdtempSync(path.join(os.tmpdir(), "parallel-train-test-"));
  ref10 = await reference(ten);
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test("2 workers train like single-thread trainOnBatch: losses, weights, replicas in step, no tensor leak", async () => {
  const trainer = await ParallelTrainer.open(config, { workers: 2 });
  try {
    assert.equal(trainer.size, 2);
    assert.deepEqual(trainer.inputShape, shape);
    assert.equal(trainer.paramCount, ref10.model.countParams());
    assert.deepEqual(
      trainer.weightShapes,
      ref10.model.getWeights().map((t) => t.shape),
    );
    const initial = await trainer.getWeights();
    assert.equal(
      relDiff(
        initial,
        buildAutoencoder(config)
          .getWeights()
          .map((t) => t.dataSync() as Float32Array),
      ),
      0,
      "same seed, same initial weights",
    );
    const losses: number[] = [];
    const copy = ten[0].slice();
    let tensors: number[] = [];
    for (const [i, b] of ten.entries()) {
      losses.push(await trainer.trainOnBatch(b, shape, 10));
      if (i === 0) tensors = (await trainer.memory()).map((m) => m.numTensors);
    }
    assert.deepEqual(ten[0], copy, "the batch is left untouched (not detached by the transfer)");
    assertLossesClose(losses, ref10.losses);
    const d = relDiff(await trainer.getWeights(), ref10.weights);
    assert.ok(d <= 1e-4, `weights differ from single-thread by ${d} (relative)`);
    await trainer.checkReplicas();
    assert.equal(
      relDiff(await trainer.getWeights(1), await trainer.getWeights(0)),
      0,
      "replicas are bit-for-bit identical",
    );
    assert.deepEqual(
      (await trainer.memory()).map((m) => m.numTensors),
      tensors,
      "no tensors leak from step to step",
    );
    const t = trainer.lastStep!;
    assert.equal(t.computeMs.length, 2);
    assert.equal(t.applyMs.length, 2);
    assert.ok(t.totalMs >= Math.max(...t.computeMs));
  } finally {
    await trainer.close();
  }
});

test("1 worker equals single-thread trainOnBatch", async () => {
  const trainer = await ParallelTrainer.open(config, { workers: 1 });
  try {
    const losses: number[] = [];
    for (const b of ten) losses.push(await trainer.trainOnBatch(b, shape));
    // One worker computes the whole batch with the same ops as trainOnBatch: bit-for-bit the same.
    assert.deepEqual(losses, ref10.losses);
    assert.equal(relDiff(await trainer.getWeights(), ref10.weights), 0);
  } finally {
    await trainer.close();
  }
});

test(
  "odd batch sizes (7 images on 2 workers, fewer images than workers), " + "concurrent calls, save and resume",
  async () => {
    const seven = batches(7, STEPS, 7);
    const mixed = [seven[0], seven[1], batches(1, 1, 3)[0], seven[3], seven[4]]; // one step of a single image
    const want = await reference(mixed);
    const trainer = await ParallelTrainer.open(config, { workers: 2 });
    const dir = path.join(root, "resume");
    try {
      // Calls made without awaiting run one after the other, in call order.
      const first = await Promise.all(mixed.slice(0, 3).map((b) => trainer.trainOnBatch(b, shape)));
      assertLossesClose(first, want.losses.slice(0, 3));
      await trainer.save(dir, { note: "after 3 steps" });
      const saved = await loadModel(dir);
      assert.equal(
        relDiff(
          saved.getWeights().map((t) => t.dataSync() as Float32Array),
          await trainer.getWeights(),
        ),
        0,
      );
      saved.dispose();
    } finally {
      await trainer.close();
    }
    // Resuming from the folder (weights and Adam state) continues the same trajectory.
    const resumed = await ParallelTrainer.open({ modelDir: dir }, { workers: 2 });
    try {
      const rest = [await resumed.trainOnBatch(mixed[3], shape), await resumed.trainOnBatch(mixed[4], shape)];
      assertLossesClose(rest, want.losses.slice(3));
      const d = relDiff(await resumed.getWeights(), want.weights);
      assert.ok(d <= 1e-4, `weights differ from single-thread by ${d} (relative)`);
      // A longer buffer with a count uses the first `count` images (lib/train.ts reuses one batch buffer).
      const long = new Float32Array(12 * per);
      long.set(seven[0]);
      await resumed.trainOnBatch(long, shape, 7);
      await resumed.checkReplicas();
    } finally {
      await resumed.close();
    }
  },
);

test("bad arguments, a NaN loss and a missing model reject clearly", async () => {
  await assert.rejects(ParallelTrainer.open(config, { workers: 0 }), /workers must be a whole number ≥ 1, got 0/);
  await assert.rejects(
    ParallelTrainer.open({ modelDir: path.join(root, "no-such-model") }, { workers: 2 }),
    (e: Error) => {
      assert.match(e.message, /^ParallelTrainer worker \d\/2 could not start: no model at .*no-such-model/);
      return true;
    },
  );
  await assert.rejects(
    ParallelTrainer.open({ ...config, height: 10 }, { workers: 1 }),
    /worker 1\/1 could not start: model config: input 10×16 must be divisible/,
  );
  const trainer = await ParallelTrainer.open(config, { workers: 2 });
  try {
    await assert.rejects(trainer.trainOnBatch(ten[0], [8, 8, 3]), /the model expects 8×16×3 images, got 8×8×3/);
    await assert.rejects(
      trainer.trainOnBatch(new Float32Array(per + 1), shape),
      /not a whole, non-zero number of 8×16×3 images/,
    );
    await assert.rejects(trainer.trainOnBatch(new Float32Array(0), shape), /not a whole, non-zero number/);
    await assert.rejects(trainer.trainOnBatch(ten[0], shape, 11), /cannot hold 11 images/);
    const before = await trainer.getWeights();
    const poisoned = ten[0].slice();
    poisoned[8 * per + 5] = NaN; // image 9 of 10: the second worker's part (images 6–10)
    await assert.rejects(trainer.trainOnBatch(poisoned, shape), (e: Error) => {
      assert.ok(e instanceof NonFiniteStepError && e.worker === 1 && Number.isNaN(e.loss));
      assert.equal(
        e.message,
        "ParallelTrainer worker 2/2: the loss of its part (images 6–10 of 10) is NaN; no update applied",
      );
      return true;
    });
    assert.equal(relDiff(await trainer.getWeights(), before), 0, "nothing applied");
    await trainer.checkReplicas();
    assert.ok(Number.isFinite(await trainer.trainOnBatch(ten[0], shape)), "it still trains after the rejected step");
  } finally {
    await trainer.close();
  }
});

test("an error inside a worker, a worker that dies, and close() reject naming the worker", async () => {
  const trainer = await ParallelTrainer.open(config, { workers: 2 });
  // reach past the trainer's own checks to make a worker's step throw
  const inner = (
    trainer as unknown as {
      workers: {
        request(body: object, expect: string, transfer?: ArrayBuffer[]): Promise<unknown>;
        worker: import("node:worker_threads").Worker;
      }[];
    }
  ).workers;
  try {
    await assert.rejects(
      inner[1].request({ type: "grad", images: new Float32Array(2 * per), count: 2, shape: [8, 8, 6] }, "grad"),
      /^Error: ParallelTrainer worker 2\/2: the model expects 8×16×3 images, got 8×8×6/,
    );
    await assert.rejects(
      inner[0].request({ type: "apply", grads: new Float32Array(3) }, "applied"),
      /^Error: ParallelTrainer worker 1\/2: received 3 gradient values, expected \d+/,
    );
    await trainer.checkReplicas(); // neither request changed anything
    assert.ok(Number.isFinite(await trainer.trainOnBatch(ten[1], shape)), "the workers still answer after an error");
    const dying = assert.rejects(
      trainer.trainOnBatch(batches(64, 1, 5)[0], shape),
      /ParallelTrainer worker 1\/2 (is not running: it )?exited with code 1/,
    );
    await inner[0].worker.terminate();
    await dying;
    await assert.rejects(
      trainer.trainOnBatch(ten[2], shape),
      /ParallelTrainer worker 1\/2 is not running: it exited with code 1/,
    );
  } finally {
    await trainer.close();
  }
  await assert.rejects(trainer.trainOnBatch(ten[0], shape), /trainOnBatch called after close\(\)/);
  await trainer.close(); // twice is fine
  const other = await ParallelTrainer.open(config, { workers: 1 });
  const inFlight = assert.rejects(
    other.trainOnBatch(batches(64, 1, 6)[0], shape),
    /ParallelTrainer worker 1\/1 was stopped by close\(\)/,
  );
  await new Promise((resolve) => setImmediate(resolve)); // the step has been sent to the worker
  await other.close();
  await inFlight;
});
