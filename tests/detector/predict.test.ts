import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { reconstruct, scoreSet } from "../../lib/detector/predict";
import { scoreBatch } from "../../lib/detector/scores";

test("scoreSet: one reconstruction, every score as lib/scores computes it", async () => {
  await tf.setBackend("cpu");
  const shape: [number, number, number] = [4, 4, 1];
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: shape,
        filters: 1,
        kernelSize: 3,
        padding: "same",
        activation: "sigmoid",
        kernelInitializer: "glorotUniform",
      }),
    ],
  });
  const images = Float32Array.from({ length: 3 * 16 }, (_, i) => ((i * 7) % 11) / 10);
  const r = await scoreSet(model, images, shape, ["mse", "maxSmoothed"], {
    keepReconstructions: true,
    scoreOptions: { maxSmoothed: { radius: 1 } },
  });
  const recon = await reconstruct(model, images, shape);
  assert.equal(r.count, 3);
  assert.deepEqual(r.reconstructions, recon);
  assert.deepEqual(r.scores.mse, scoreBatch("mse", images, recon, shape));
  assert.deepEqual(r.scores.maxSmoothed, scoreBatch("maxSmoothed", images, recon, shape, { radius: 1 }));
  assert.notDeepEqual(r.scores.maxSmoothed, scoreBatch("maxSmoothed", images, recon, shape));
  assert.equal((await scoreSet(model, images, shape, ["ssim"])).reconstructions, undefined);
  await assert.rejects(scoreSet(model, images, shape, []), /name at least one score/);
  await assert.rejects(scoreSet(model, images, shape, ["psnr" as "mse"]), /unknown score "psnr"/);
  await assert.rejects(scoreSet(model, images.subarray(1), shape, ["mse"]), /not a whole number/);
  model.dispose();
});
