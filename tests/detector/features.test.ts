import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { featureSpec, imageFeatures } from "../../lib/detector/features";
import { buildAutoencoder, klDivergence } from "../../lib/detector/model";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadModel, saveModel } from "../../lib/detector/checkpoint";

const shape: [number, number, number] = [8, 12, 3];
const per = 8 * 12 * 3;
const images = (n: number, seed = 1) =>
  Float32Array.from({ length: n * per }, (_, i) => (Math.sin(i * 0.37 + seed) + 1) / 2);

test("featureSpec names the input, every encoder block, and the VAE's code", () => {
  const ae = featureSpec(buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8] }));
  assert.deepEqual(ae.layers, ["image", "enc1", "enc2"]);
  assert.equal(ae.size, 2 * (3 + 4 + 8));
  assert.equal(ae.names[0], "image.mean[0]");
  assert.equal(ae.names[3], "image.sd[0]");
  const bn = featureSpec(buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8], blocks: "bn-leaky" }));
  assert.deepEqual(bn.layers, ["image", "enc1", "enc2"]);
  const vae = featureSpec(
    buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8], kind: "vae", latent: 5 }),
  );
  assert.deepEqual(vae.layers, ["image", "enc1", "enc2", "z_mean"]);
  assert.equal(vae.size, 2 * (3 + 4 + 8) + 5);
  const input = tf.input({ shape: [8, 12, 3] });
  assert.throws(
    () =>
      featureSpec(
        tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor }),
      ),
    /no encoder layers named enc1/,
  );
});

test(
  "imageFeatures: the input's statistics are its per-channel mean and sd, " + "over the centre when a border is given",
  async () => {
    const model = buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8] });
    const x = images(3);
    const f = await imageFeatures(model, x, shape, { batchSize: 2 });
    assert.equal(f.count, 3);
    assert.equal(f.data.length, 3 * f.spec.size);
    const stats = (img: number, ch: number, y0: number, y1: number, x0: number, x1: number) => {
      const v: number[] = [];
      for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) v.push(x[img * per + (y * 12 + xx) * 3 + ch]);
      const m = v.reduce((a, b) => a + b) / v.length;
      return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
    };
    for (let ch = 0; ch < 3; ch++) {
      const [m, sd] = stats(2, ch, 0, 8, 0, 12);
      assert.ok(Math.abs(f.data[2 * f.spec.size + ch] - m) < 1e-5);
      assert.ok(Math.abs(f.data[2 * f.spec.size + 3 + ch] - sd) < 1e-4);
    }
    const c = await imageFeatures(model, x, shape, { border: 0.25 });
    const [m] = stats(0, 1, 2, 6, 3, 9);
    assert.ok(Math.abs(c.data[1] - m) < 1e-5, "border 0.25 of 8×12 keeps rows 2–5 and columns 3–8");
    await assert.rejects(imageFeatures(model, x, [8, 12, 1]), /expects 8×12×3 images, got 8×12×1/);
    await assert.rejects(imageFeatures(model, x, shape, { border: 0.5 }), /border must be in \[0, 0.5\)/);
  },
);

test(
  "the VAE's loss holds its KL term (trainOnBatch minimises more than the MSE), " + "and it saves and loads",
  async () => {
    const vae = buildAutoencoder({
      height: 8,
      width: 12,
      channels: 3,
      filters: [4, 8],
      kind: "vae",
      latent: 4,
      vaeSigma: 3,
    });
    const x = tf.tensor4d(images(4), [4, ...shape]);
    const recon = vae.predict(x) as tf.Tensor;
    const mse = tf.losses.meanSquaredError(x, recon).dataSync()[0];
    const kl = klDivergence(vae, images(4), shape)!;
    assert.ok(kl > 0 && Number.isFinite(kl));
    // σ = 3 makes the KL weight 2·9/288 = 1/16; the loss trainOnBatch reports is MSE (sampled z) + KL/16
    const loss = (await vae.trainOnBatch(x, x)) as number;
    assert.ok(loss > mse + 0.5 * (kl / 16), `loss ${loss}, mse ${mse}, kl/16 ${kl / 16}`);
    assert.equal(
      klDivergence(buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8] }), images(1), shape),
      null,
    );
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vae-")), "m");
    await saveModel(vae, dir);
    const back = await loadModel(dir);
    const a = (vae.predict(x) as tf.Tensor).dataSync(),
      b = (back.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(b), Array.from(a), "the loaded VAE predicts the same (the mean code, no sampling)");
    tf.dispose([x, recon]);
  },
);
