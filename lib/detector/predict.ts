/**
 * Running a trained autoencoder over many images in batches, without leaking tensors.
 *
 *   const recon = await reconstruct(model, images, [32, 48, 3]);   // Float32Array, same layout as images
 */
import * as tf from "@tensorflow/tfjs";
import { SCORE_NAMES, scoreBatch, type ScoreName, type ScoreOptions } from "./scores";
import { imageCount } from "./shape";

export async function reconstruct(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  batchSize = 256,
): Promise<Float32Array> {
  const [h, w, c] = shape;
  const per = h * w * c;
  const n = imageCount(images, shape, "reconstruct");
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

// ---------------------------------------------------------------------------------------------------------------
// Scoring

export interface ScoreSetOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /** Return the reconstructions too (N×H×W×C, as many values as the images). Default false. */
  keepReconstructions?: boolean;
  /** Per-score options (window radius, top-k fraction), passed to lib/scores. */
  scoreOptions?: Partial<Record<ScoreName, ScoreOptions>>;
}

export interface ScoredSet<N extends ScoreName> {
  /** One Float32Array of N scores per score name (higher = more anomalous). */
  scores: Record<N, Float32Array>;
  reconstructions?: Float32Array;
  count: number;
}

/**
 * Reconstruct a flat NHWC batch once and compute every named score on it:
 *   (await scoreSet(model, data, [32, 48, 3], ["mse", "ssim"])).scores.ssim   // Float32Array(N)
 */
export async function scoreSet<N extends ScoreName>(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  scoreNames: readonly N[],
  options: ScoreSetOptions = {},
): Promise<ScoredSet<N>> {
  if (scoreNames.length === 0) throw new Error(`scoreSet: name at least one score (${SCORE_NAMES.join(", ")})`);
  for (const name of scoreNames)
    if (!SCORE_NAMES.includes(name))
      throw new Error(`scoreSet: unknown score "${name}"; choose from ${SCORE_NAMES.join(", ")}`);
  const recon = await reconstruct(model, images, shape, options.batchSize);
  const scores = {} as Record<N, Float32Array>;
  for (const name of scoreNames) scores[name] = scoreBatch(name, images, recon, shape, options.scoreOptions?.[name]);
  const count = images.length / (shape[0] * shape[1] * shape[2]);
  return options.keepReconstructions ? { scores, reconstructions: recon, count } : { scores, count };
}
