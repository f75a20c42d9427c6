/**
 * The convolutional autoencoders for well images (TensorFlow.js layers API).
 *
 * Encoder: `filters.length` blocks of Conv2D(3×3, stride 2, same padding) + activation; decoder: the mirror image with
 * Conv2DTranspose(3×3, stride 2), then a 3×3 Conv2D to the input channels with a sigmoid (pixels are in [0, 1]).
 * Height and width must be divisible by 2^blocks. Options:
 *
 *   blocks: "plain"     convolution + ReLU (the original net)
 *           "bn-leaky"  convolution (no bias) + BatchNormalization + LeakyReLU(0.2), in encoder and decoder
 *   kind:   "ae"        the code is the last encoder block's output (H/2^b × W/2^b × filters)
 *           "vae"       a variational autoencoder: the last block is flattened into `z_mean` and `z_log_var`
 *                       (`latent` units each), `z` is sampled with the reparameterisation trick while training (the
 *                       mean when predicting), and a dense layer maps z back to the decoder's first feature map.
 *
 * The VAE's loss is the negative ELBO of a Gaussian decoder with σ = `vaeSigma` (default 0.1), divided by the number
 * of pixel values so that it stays on the plain AE's MSE scale:
 *   loss = MSE(x, x̂) + KL(q(z|x) ‖ N(0, I)) · 2σ² / (H·W·C)
 * The KL term is added by the `VaeSampling` layer (`addLoss`), so `model.trainOnBatch` and lib/detector/parallel-train
 * minimise it with no custom training loop, and `klDivergence(model, images)` reports it per image for the run log.
 *
 *   import { buildAutoencoder } from "../dist/lib/detector";
 *   const model = buildAutoencoder({ height: 32, width: 48, channels: 3, filters: [32, 64, 128], seed: 1 });
 *   const vae = buildAutoencoder({ kind: "vae", latent: 32, blocks: "bn-leaky" });
 */
import * as tf from "@tensorflow/tfjs";

export const MODEL_KINDS = ["ae", "vae"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const BLOCK_KINDS = ["plain", "bn-leaky"] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

export interface AutoencoderConfig {
  height: number;
  width: number;
  channels: number;
  /** Filters per encoder block; the decoder mirrors them. */
  filters: number[];
  kernelSize?: number;
  /** Seed for the weight initialisers (the same seed gives the same initial weights). */
  seed?: number;
  learningRate?: number;
  loss?: "mse" | "mae";
  /** "plain" (conv + ReLU, default) or "bn-leaky" (conv + BatchNorm + LeakyReLU). */
  blocks?: BlockKind;
  /** "ae" (default) or "vae". */
  kind?: ModelKind;
  /** Latent units of the VAE (default 32). */
  latent?: number;
  /** The VAE decoder's pixel noise σ, which weighs the KL term (default 0.1). */
  vaeSigma?: number;
}

export const DEFAULT_MODEL: AutoencoderConfig = {
  height: 32,
  width: 48,
  channels: 3,
  filters: [32, 64, 128],
  kernelSize: 3,
  seed: 1,
  learningRate: 1e-3,
  loss: "mse",
  blocks: "plain",
  kind: "ae",
};

export function validateConfig(c: AutoencoderConfig): void {
  const factor = 2 ** c.filters.length;
  if (c.filters.length === 0) throw new Error("model config: filters must name at least one encoder block");
  if (c.filters.some((f) => !Number.isInteger(f) || f < 1))
    throw new Error(`model config: filters must be positive integers, got ${c.filters.join(",")}`);
  if (c.height % factor !== 0 || c.width % factor !== 0)
    throw new Error(
      `model config: input ${c.height}×${c.width} must be divisible by 2^${c.filters.length} = ${factor}`,
    );
  if (![1, 3].includes(c.channels)) throw new Error(`model config: channels must be 1 or 3, got ${c.channels}`);
  if (c.kind !== undefined && !MODEL_KINDS.includes(c.kind))
    throw new Error(`model config: kind must be one of ${MODEL_KINDS.join(", ")}, got "${c.kind}"`);
  if (c.blocks !== undefined && !BLOCK_KINDS.includes(c.blocks))
    throw new Error(`model config: blocks must be one of ${BLOCK_KINDS.join(", ")}, got "${c.blocks}"`);
  if (c.latent !== undefined && !(Number.isInteger(c.latent) && c.latent >= 1))
    throw new Error(`model config: latent must be a positive integer, got ${c.latent}`);
  if (c.vaeSigma !== undefined && !(c.vaeSigma > 0))
    throw new Error(`model config: vaeSigma must be > 0, got ${c.vaeSigma}`);
}

/**
 * z = mean + exp(logVar / 2) · ε while training, the mean otherwise; adds the batch-mean KL divergence to N(0, I),
 * times `klWeight`, to the model's losses. Inputs: [z_mean, z_log_var].
 */
export class VaeSampling extends tf.layers.Layer {
  static className = "VaeSampling";
  readonly klWeight: number;
  private lastKl: tf.Scalar | null = null;

  constructor(config: { klWeight: number; name?: string }) {
    super(config);
    this.klWeight = config.klWeight;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    // The loss closure reads the KL of the latest call; tfjs calls it inside the same gradient tape (trainOnBatch and
    // lib/detector/parallel-train both run the forward pass, then `calculateLosses()`).
    this.addLoss(() => (this.lastKl ? tf.mul(this.lastKl, this.klWeight) : tf.scalar(0)) as tf.Scalar);
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[0];
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const [mean, logVar] = inputs as tf.Tensor[];
    const kl = klPerImage(mean, logVar);
    this.lastKl = tf.keep(tf.mean(kl)) as tf.Scalar;
    if (!kwargs?.training) return tf.clone(mean);
    const eps = tf.randomNormal(mean.shape);
    return tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), klWeight: this.klWeight };
  }
}
tf.serialization.registerClass(VaeSampling);

/** KL(N(mean, exp(logVar)) ‖ N(0, I)) per row: −½ Σ (1 + logVar − mean² − exp(logVar)). */
function klPerImage(mean: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.sum(tf.sub(tf.add(1, logVar), tf.add(tf.square(mean), tf.exp(logVar))), -1), -0.5));
}

function isVae(model: tf.LayersModel): boolean {
  return model.layers.some((l) => l.name === "z_mean");
}

/**
 * The VAE's KL divergence per image (nats), for the run log: mean over `images` (N×H×W×C floats). Null for a plain AE.
 *   klDivergence(vae, heldOutNormals, [32, 48, 3])   // e.g. 41.7
 */
export function klDivergence(
  model: tf.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  batchSize = 256,
): number | null {
  if (!isVae(model)) return null;
  const encoder = tf.model({
    inputs: model.inputs,
    outputs: [model.getLayer("z_mean").output, model.getLayer("z_log_var").output] as tf.SymbolicTensor[],
  });
  const per = shape[0] * shape[1] * shape[2];
  const n = images.length / per;
  let sum = 0;
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    sum += tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(s * per, (s + m) * per), [m, ...shape]);
      const [mean, logVar] = encoder.predict(x) as tf.Tensor[];
      return tf.sum(klPerImage(mean, logVar)).dataSync()[0];
    });
  }
  return n ? sum / n : null;
}

export function buildAutoencoder(config: Partial<AutoencoderConfig> = {}): tf.LayersModel {
  const c = { ...DEFAULT_MODEL, ...config };
  validateConfig(c);
  const k = c.kernelSize ?? 3;
  let seed = c.seed ?? 1;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const bn = c.blocks === "bn-leaky";
  /** One block: a (transposed) convolution with its activation, BatchNorm before a LeakyReLU in "bn-leaky". */
  const block = (x: tf.SymbolicTensor, f: number, name: string, transpose: boolean) => {
    const conv = (transpose ? tf.layers.conv2dTranspose : tf.layers.conv2d)({
      filters: f,
      kernelSize: k,
      strides: 2,
      padding: "same",
      activation: bn ? "linear" : "relu",
      useBias: !bn,
      kernelInitializer: init(),
      name: bn ? `${name}_conv` : name,
    });
    let y = conv.apply(x) as tf.SymbolicTensor;
    if (bn) {
      y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.leakyReLU({ alpha: 0.2, name }).apply(y) as tf.SymbolicTensor;
    }
    return y;
  };
  const input = tf.input({ shape: [c.height, c.width, c.channels], name: "image" });
  let x: tf.SymbolicTensor = input;
  c.filters.forEach((f, i) => (x = block(x, f, `enc${i + 1}`, false)));
  if (c.kind === "vae") {
    const codeShape = x.shape.slice(1) as number[];
    const latent = c.latent ?? 32;
    const sigma = c.vaeSigma ?? 0.1;
    const flat = tf.layers.flatten({ name: "code_flat" }).apply(x) as tf.SymbolicTensor;
    const zMean = tf.layers
      .dense({ units: latent, kernelInitializer: init(), name: "z_mean" })
      .apply(flat) as tf.SymbolicTensor;
    const zLogVar = tf.layers
      .dense({ units: latent, kernelInitializer: tf.initializers.zeros(), name: "z_log_var" })
      .apply(flat) as tf.SymbolicTensor;
    const klWeight = (2 * sigma * sigma) / (c.height * c.width * c.channels);
    const z = new VaeSampling({ klWeight, name: "z" }).apply([zMean, zLogVar]) as tf.SymbolicTensor;
    const units = codeShape.reduce((a, b) => a * b, 1);
    x = tf.layers
      .dense({ units, activation: "relu", kernelInitializer: init(), name: "z_to_code" })
      .apply(z) as tf.SymbolicTensor;
    x = tf.layers.reshape({ targetShape: codeShape, name: "code" }).apply(x) as tf.SymbolicTensor;
  }
  [...c.filters].reverse().forEach((f, i) => (x = block(x, f, `dec${i + 1}`, true)));
  const output = tf.layers
    .conv2d({
      filters: c.channels,
      kernelSize: k,
      padding: "same",
      activation: "sigmoid",
      kernelInitializer: init(),
      name: "reconstruction",
    })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: c.kind === "vae" ? "well_vae" : "well_autoencoder" });
  model.compile({
    optimizer: tf.train.adam(c.learningRate ?? 1e-3),
    loss: c.loss === "mae" ? "meanAbsoluteError" : "meanSquaredError",
  });
  return model;
}
