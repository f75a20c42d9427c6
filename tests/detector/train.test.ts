import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readRunLog, trainAutoencoder, type TrainData } from "../../lib/detector/train";
import { loadModel } from "../../lib/detector/checkpoint";
import { readEvents } from "../../lib/common/tensorboard";

before(async () => {
  await tf.setBackend("cpu");
});

function tinyData(n = 12): TrainData {
  const shape: [number, number, number] = [8, 8, 1];
  const per = 64;
  const train = Float32Array.from({ length: n * per }, (_, i) => 0.3 + 0.4 * Math.sin(i * 0.37) ** 2);
  const val = Float32Array.from({ length: 6 * per }, (_, i) =>
    i >= 4 * per ? 1 - (i % 2) : 0.3 + 0.4 * Math.sin(i * 0.37) ** 2,
  );
  return { train, validation: { data: val, labels: Uint8Array.from([0, 0, 0, 0, 1, 1]) }, shape };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "train-test-"));
const opts = { epochs: 2, batchSize: 4, model: { filters: [2], learningRate: 0.01 }, patience: 10 };

test("a run writes its log, TensorBoard events, best and last checkpoints, and resumes", async () => {
  const runDir = tmp();
  const first = await trainAutoencoder(tinyData(), { ...opts, runDir });
  assert.equal(first.history.length, 2);
  assert.equal(readRunLog(runDir).length, 2);
  for (const d of ["best", "last"]) assert.ok(fs.existsSync(path.join(runDir, d, "model.json")));
  const events = fs.readdirSync(runDir).filter((f) => f.startsWith("events.out.tfevents"));
  assert.ok(readEvents(path.join(runDir, events[0])).some((e) => e.tag === "loss/train" && e.step === 2));
  const epochs: number[] = [];
  const resumed = await trainAutoencoder(
    tinyData(),
    { ...opts, epochs: 3, runDir },
    { onEpoch: (r) => epochs.push(r.epoch) },
  );
  assert.deepEqual(epochs, [3], "resuming trains only the missing epoch");
  assert.equal(resumed.history.length, 3);
  const fresh = await trainAutoencoder(tinyData(), { ...opts, epochs: 1, runDir, fresh: true });
  assert.equal(fresh.history.length, 1);
  const model = await loadModel(path.join(runDir, "best"));
  assert.deepEqual(model.inputs[0].shape, [null, 8, 8, 1]);
  fs.rmSync(runDir, { recursive: true, force: true });
});

test("the same seed gives the same losses", async () => {
  const a = await trainAutoencoder(tinyData(), { ...opts, runDir: tmp() });
  const b = await trainAutoencoder(tinyData(), { ...opts, runDir: tmp() });
  assert.deepEqual(
    a.history.map((r) => r.loss),
    b.history.map((r) => r.loss),
  );
});

test("a NaN loss stops the run with a clear error, and bad data is refused", async () => {
  const d = tinyData();
  d.train[5] = NaN;
  await assert.rejects(trainAutoencoder(d, { ...opts, runDir: tmp() }), /diverged: loss is NaN at epoch 1, batch \d+/);
  const ragged = tinyData();
  await assert.rejects(
    trainAutoencoder({ ...ragged, train: ragged.train.subarray(1) }, { ...opts, runDir: tmp() }),
    /whole number/,
  );
  const noNormals = tinyData();
  noNormals.validation.labels.fill(1);
  await assert.rejects(trainAutoencoder(noNormals, { ...opts, runDir: tmp() }), /no normal images/);
});

test("workers: two threads reach the losses of one, checkpoint, resume, and stop on a NaN loss", async () => {
  const one = await trainAutoencoder(tinyData(), { ...opts, runDir: tmp() });
  const runDir = tmp();
  const two = await trainAutoencoder(tinyData(), { ...opts, runDir, workers: 2 });
  // the workers run their own backend (wasm here, cpu in this thread): equal up to float rounding
  for (let i = 0; i < 2; i++) {
    assert.ok(
      Math.abs(two.history[i].loss - one.history[i].loss) <= 1e-4 * one.history[i].loss,
      `epoch ${i + 1}: ${two.history[i].loss} vs ${one.history[i].loss}`,
    );
    assert.ok(Math.abs(two.history[i].valLoss - one.history[i].valLoss) <= 1e-3 * one.history[i].valLoss);
  }
  const saved = JSON.parse(fs.readFileSync(path.join(runDir, "last", "model.json"), "utf8"));
  assert.ok(
    saved.weightsManifest[0].weights.some((w: { name: string }) => /\/m$/.test(w.name)),
    "the optimizer state is saved",
  );
  const resumed = await trainAutoencoder(tinyData(), { ...opts, epochs: 3, runDir, workers: 2 });
  assert.equal(resumed.history.length, 3);
  const d = tinyData();
  d.train[5] = NaN;
  await assert.rejects(
    trainAutoencoder(d, { ...opts, runDir: tmp(), workers: 2 }),
    /diverged: loss is NaN at epoch 1, batch \d+/,
  );
  await assert.rejects(
    trainAutoencoder(tinyData(), { ...opts, runDir: tmp(), workers: 0 }),
    /workers must be a positive integer/,
  );
});
