import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/tf/backend";
import { buildAutoencoder, type AutoencoderConfig } from "../../lib/detector/model";
import { exportOnnx, writeOnnxChecked } from "../../lib/detector/onnx-export";
import { onnxAvailable, OnnxRunner } from "../../lib/detector/onnx-runtime";
import { featureSpec, imageFeatures, reconstructWithFeatures } from "../../lib/detector/features";
import { detectorScores, DETECTOR_SCORES, fitDetector } from "../../lib/detector/detector";
import { mulberry32 } from "../../lib/common/random";

const ort = onnxAvailable();
const SKIP = ort.ok ? false : `onnxruntime-node cannot load here: ${ort.reason}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "onnx-"));
const images = (n: number, shape: number[], seed = 1) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => r());
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** A model with trained (not initial) weights and BatchNorm statistics, so every parameter matters. */
async function trained(config: Partial<AutoencoderConfig>) {
  const m = buildAutoencoder(config);
  const [h, w, c] = [config.height!, config.width!, config.channels!];
  const x = tf.tensor4d(images(6, [h, w, c], 9), [6, h, w, c]);
  for (let i = 0; i < 3; i++) await m.trainOnBatch(x, x);
  x.dispose();
  return m;
}

const CASES: [string, Partial<AutoencoderConfig>][] = [
  ["Conv2D + Conv2DTranspose + ReLU + sigmoid, 12×20×3", { height: 12, width: 20, channels: 3, filters: [4, 6] }],
  [
    "BatchNorm + LeakyReLU, 24×8×1 (grey, tall)",
    { height: 24, width: 8, channels: 1, filters: [3, 5, 7], blocks: "bn-leaky" },
  ],
  [
    "VAE: Flatten, Dense, sampling (mean), Reshape, 8×12×3",
    { height: 8, width: 12, channels: 3, filters: [4, 6], kind: "vae", latent: 5 },
  ],
  [
    "VAE with BatchNorm, 16×16×3, 5×5 kernels",
    { height: 16, width: 16, channels: 3, filters: [4, 8], kind: "vae", latent: 3, blocks: "bn-leaky", kernelSize: 5 },
  ],
];

for (const [name, config] of CASES)
  test(`ONNX export equals tfjs within 1e-5 (batch 1 and 3): ${name}`, { skip: SKIP }, async () => {
    await initBackend();
    const model = await trained(config);
    const file = path.join(tmp, `${name.replace(/\W+/g, "-")}.onnx`);
    fs.writeFileSync(file, exportOnnx(model));
    const runner = await OnnxRunner.open(file, featureSpec(model), { threads: 1 });
    const shape: [number, number, number] = [config.height!, config.width!, config.channels!];
    for (const n of [1, 3]) {
      const x = images(n, shape, n);
      const a = await runner.run(x, shape, { border: 0.25, batchSize: 2 });
      const b = await reconstructWithFeatures(model, x, shape, { border: 0.25 });
      assert.ok(
        maxDiff(a.reconstructions, b.reconstructions) < 1e-5,
        `reconstruction differs by ${maxDiff(a.reconstructions, b.reconstructions)}`,
      );
      assert.ok(
        maxDiff(a.features!.data, b.features.data) < 1e-5,
        `features differ by ${maxDiff(a.features!.data, b.features.data)}`,
      );
    }
    await runner.close();
  });

test(
  "odd sizes: 'same' and 'valid' padding, strides 1–2, asymmetric TF padding on 7×9 and 5×11 inputs",
  { skip: SKIP },
  async () => {
    await initBackend();
    for (const [h, w] of [
      [7, 9],
      [5, 11],
    ]) {
      const input = tf.input({ shape: [h, w, 3], name: "image" });
      let x = tf.layers
        .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu", name: "enc1" })
        .apply(input) as tf.SymbolicTensor;
      x = tf.layers
        .conv2d({ filters: 5, kernelSize: [2, 3], strides: [1, 2], padding: "same", name: "enc2" })
        .apply(x) as tf.SymbolicTensor;
      x = tf.layers
        .conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu", name: "dec1" })
        .apply(x) as tf.SymbolicTensor;
      x = tf.layers
        .conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: "valid", name: "dec2" })
        .apply(x) as tf.SymbolicTensor;
      const out = tf.layers
        .conv2d({ filters: 3, kernelSize: 3, padding: "valid", activation: "sigmoid", name: "reconstruction" })
        .apply(x) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: out });
      const file = path.join(tmp, `odd-${h}x${w}.onnx`);
      fs.writeFileSync(file, exportOnnx(model));
      const runner = await OnnxRunner.open(file, featureSpec(model), { threads: 1 });
      const xs = images(1, [h, w, 3], h);
      const a = await runner.run(xs, [h, w, 3], { border: 0 });
      const f = await imageFeatures(model, xs, [h, w, 3]);
      const y = tf.tidy(() => (model.predict(tf.tensor4d(xs, [1, h, w, 3])) as tf.Tensor).dataSync());
      assert.equal(a.reconstructions.length, y.length);
      assert.ok(maxDiff(a.reconstructions, y) < 1e-5 && maxDiff(a.features!.data, f.data) < 1e-5, `${h}×${w}`);
      await runner.close();
    }
  },
);

test(
  "detector scores through onnxruntime equal the tfjs ones within 1e-5 (relative), every score",
  { skip: SKIP },
  async () => {
    await initBackend();
    const shape: [number, number, number] = [12, 20, 3];
    const model = await trained({ height: 12, width: 20, channels: 3, filters: [4, 6], blocks: "bn-leaky" });
    const det = await fitDetector(model, shape, {
      train: images(60, shape, 2),
      reference: images(30, shape, 3),
      adapt: images(30, shape, 4),
    });
    const file = path.join(tmp, "detector.onnx");
    const check = await writeOnnxChecked(model, file);
    assert.ok(check.checked && check.maxDiff < 1e-5);
    const probe = images(7, shape, 5);
    const viaTf = await detectorScores(det, probe, [...DETECTOR_SCORES]);
    det.onnx = await OnnxRunner.open(file, det.spec, { threads: 2 });
    const viaOnnx = await detectorScores(det, probe, [...DETECTOR_SCORES]);
    await det.onnx.close();
    for (const s of DETECTOR_SCORES) {
      const rel = Math.max(...Array.from(viaTf[s], (v, i) => Math.abs(v - viaOnnx[s][i]) / Math.max(1, Math.abs(v))));
      assert.ok(rel < 1e-5, `${s}: relative difference ${rel}`);
    }
  },
);

test(
  "export refuses what it cannot write, and a file without the feature outputs is refused by name",
  { skip: SKIP },
  async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const pooled = tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }).apply(input) as tf.SymbolicTensor;
    const m = tf.model({
      inputs: input,
      outputs: tf.layers.conv2d({ filters: 3, kernelSize: 1, name: "enc1" }).apply(pooled) as tf.SymbolicTensor,
    });
    assert.throws(() => exportOnnx(m), /layer pool \(MaxPooling2D\) is not supported/);
    const small = buildAutoencoder({ height: 8, width: 8, channels: 3, filters: [4] });
    const file = path.join(tmp, "small.onnx");
    fs.writeFileSync(file, exportOnnx(small));
    const other = buildAutoencoder({ height: 8, width: 8, channels: 3, filters: [4, 4] });
    await assert.rejects(OnnxRunner.open(file, featureSpec(other)), /lacks the outputs feature:enc2/);
  },
);
