/**
 * Running a trained autoencoder over many images in batches, without leaking tensors.
 *
 *   const recon = await reconstruct(model, images, [32, 48, 3]);   // Float32Array, same layout as images
 */
import * as tf from "@tensorflow/tfjs";

export async function reconstruct(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  batchSize = 256,
): Promise<Float32Array> {
  const [h, w, c] = shape;
  const per = h * w * c;
  const n = images.length / per;
  if (!Number.isInteger(n))
    throw new Error(`reconstruct: ${images.length} values is not a whole number of ${shape.join("×")} images`);
  const expected = model.inputs[0].shape.slice(1);
  if (expected.join() !== shape.join())
    throw new Error(`reconstruct: the model expects ${expected.join("×")} images, got ${shape.join("×")}`);
  const out = new Float32Array(images.length);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const y = tf.tidy(
      () =>
        model.predict(tf.tensor4d(images.subarray(start * per, (start + size) * per), [size, h, w, c])) as tf.Tensor,
    );
    out.set(await y.data(), start * per);
    y.dispose();
  }
  return out;
}
