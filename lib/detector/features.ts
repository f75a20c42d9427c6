/**
 * Per-image feature statistics of a trained (variational) autoencoder, the input of the feature-density score
 * (lib/density.ts, experiments/PROTOCOL-3.md).
 *
 * For the input itself and for every encoder block's output (the layers named `enc1`, `enc2`, …), the mean and the
 * standard deviation of each channel over the image's positions; for a VAE also the code, its latent mean `z_mean`.
 * A spill that the decoder reconstructs well still changes these statistics: a smooth, uniform patch lowers the
 * spread of the first layers' edge and texture channels, a bright one raises their mean.
 *
 *   const spec = featureSpec(model);                   // { layers: ["image", "enc1", "enc2", "enc3"], size: 454, … }
 *   const f = await imageFeatures(model, images, [32, 48, 3], { border: 0.25 });
 *   // { data: Float64Array(N × 454), count: N, spec }
 */
import * as tf from "@tensorflow/tfjs";
import { imageCount } from "./shape";

export interface FeatureSpec {
  /** Layer names in feature order: "image" first, then the encoder blocks, then `z_mean` for a VAE. */
  layers: string[];
  /** Per layer: its channels, and whether it contributes mean + sd per channel ("stats") or its values ("code"). */
  parts: { layer: string; channels: number; kind: "stats" | "code" }[];
  /** Number of features per image. */
  size: number;
  /** A readable name per feature: "enc2.mean[17]", "image.sd[0]", "z_mean[3]". */
  names: string[];
}

export interface ImageFeatures {
  /** N rows of `spec.size` features, row after row. */
  data: Float64Array;
  count: number;
  spec: FeatureSpec;
}

/** The default `border`: the statistics of the central half of each map (PROTOCOL-3.md, amendment A). */
export const DEFAULT_FEATURE_BORDER = 0.25;

export interface FeatureOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /**
   * Leave out this fraction of each map's height and width on every side before taking the statistics (default 0:
   * the whole map). The crop's edges hold whatever lies next to the well (the table's rim, a neighbour, a tool),
   * which varies between cameras far more than the well itself does. lib/detector uses DEFAULT_FEATURE_BORDER.
   */
  border?: number;
}

/** The central part of a [batch, h, w, c] map, `border` of each side left out (at least one row and column kept). */
function centre(a: tf.Tensor, border: number): tf.Tensor {
  if (border === 0) return a;
  const [, h, w] = a.shape as number[];
  const dy = Math.min(Math.round(h * border), Math.floor((h - 1) / 2)),
    dx = Math.min(Math.round(w * border), Math.floor((w - 1) / 2));
  return dy === 0 && dx === 0 ? a : tf.slice(a, [0, dy, dx, 0], [-1, h - 2 * dy, w - 2 * dx, -1]);
}

/** The encoder layers the features are read from, as found in the model (enc1…encN, then z_mean when a VAE). */
export function featureSpec(model: tf.LayersModel): FeatureSpec {
  const input = model.inputs[0].shape;
  const parts: FeatureSpec["parts"] = [{ layer: "image", channels: input[3] as number, kind: "stats" }];
  for (let i = 1; ; i++) {
    const layer = model.layers.find((l) => l.name === `enc${i}`);
    if (!layer) break;
    const shape = layer.outputShape as number[];
    parts.push({ layer: layer.name, channels: shape[shape.length - 1], kind: "stats" });
  }
  if (parts.length === 1)
    throw new Error(
      `featureSpec: model "${model.name}" has no encoder layers named enc1, enc2, … to read features from`,
    );
  const zMean = model.layers.find((l) => l.name === "z_mean");
  if (zMean) parts.push({ layer: "z_mean", channels: (zMean.outputShape as number[])[1], kind: "code" });
  const names: string[] = [];
  for (const p of parts) {
    if (p.kind === "code") for (let k = 0; k < p.channels; k++) names.push(`${p.layer}[${k}]`);
    else for (const stat of ["mean", "sd"]) for (let k = 0; k < p.channels; k++) names.push(`${p.layer}.${stat}[${k}]`);
  }
  return { layers: parts.map((p) => p.layer), parts, size: names.length, names };
}

/**
 * Feature statistics of every image (N×H×W×C floats in [0, 1]), in batches, without leaking tensors.
 * Activations are read in inference mode (BatchNorm with its moving statistics, the VAE's mean code).
 */
export async function imageFeatures(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  options: FeatureOptions = {},
): Promise<ImageFeatures> {
  return (await featuresPass(model, images, shape, options, false)).features;
}

/**
 * The reconstructions and the feature statistics from one forward pass (a model with the output and the encoder
 * layers as outputs): scoring both kinds costs little more than reconstructing alone (`npm run bench -- density`).
 *   const { reconstructions, features } = await reconstructWithFeatures(model, images, [32, 48, 3], { border: 0.25 });
 */
export async function reconstructWithFeatures(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  options: FeatureOptions = {},
) {
  const r = await featuresPass(model, images, shape, options, true);
  return { reconstructions: r.reconstructions!, features: r.features };
}

async function featuresPass(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  options: FeatureOptions,
  withRecon: boolean,
) {
  const batchSize = options.batchSize ?? 256;
  const border = options.border ?? 0;
  if (!(border >= 0 && border < 0.5)) throw new Error(`imageFeatures: border must be in [0, 0.5), got ${border}`);
  const spec = featureSpec(model);
  const per = shape[0] * shape[1] * shape[2];
  const n = imageCount(images, shape, "imageFeatures");
  const expected = model.inputs[0].shape.slice(1);
  if (expected.join() !== shape.join())
    throw new Error(`imageFeatures: the model expects ${expected.join("×")} images, got ${shape.join("×")}`);
  const layerOutputs = spec.parts.slice(1).map((p) => model.getLayer(p.layer).output as tf.SymbolicTensor);
  const extractor = tf.model({
    inputs: model.inputs,
    outputs: withRecon ? [model.outputs[0], ...layerOutputs] : layerOutputs,
  });
  const data = new Float64Array(n * spec.size);
  const reconstructions = withRecon ? new Float32Array(images.length) : null;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [rows, recon] = tf.tidy((): tf.Tensor[] => {
      const x = tf.tensor4d(images.subarray(start * per, (start + size) * per), [size, ...shape]);
      const outs = ([] as tf.Tensor[]).concat(extractor.predict(x) as tf.Tensor | tf.Tensor[]);
      const y = withRecon ? outs.shift()! : null;
      const acts = [x, ...outs];
      const pieces = acts.flatMap((a, i) => {
        if (spec.parts[i].kind === "code") return [a];
        const { mean, variance } = tf.moments(centre(a, border), [1, 2]);
        return [mean, tf.sqrt(tf.relu(variance))];
      });
      return y ? [tf.concat(pieces, 1), y] : [tf.concat(pieces, 1)];
    });
    const values = await rows.data();
    rows.dispose();
    for (let k = 0; k < values.length; k++) data[start * spec.size + k] = values[k];
    if (recon && reconstructions) {
      reconstructions.set(await recon.data(), start * per);
      recon.dispose();
    }
  }
  return { features: { data, count: n, spec } as ImageFeatures, reconstructions };
}
