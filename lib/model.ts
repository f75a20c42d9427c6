/**
 * The convolutional autoencoder for well images (TensorFlow.js layers API).
 *
 * Encoder: `filters.length` blocks of Conv2D(3×3, stride 2, same padding) + ReLU;
 * decoder: the mirror image with Conv2DTranspose(3×3, stride 2) + ReLU, then a 3×3 Conv2D to the input channels
 * with a sigmoid (pixels are in [0, 1]). Height and width must be divisible by 2^blocks.
 *
 *   import { buildAutoencoder } from "../dist/lib/model";
 *   const model = buildAutoencoder({ height: 32, width: 48, channels: 3, filters: [32, 64, 128], seed: 1 });
 */
import * as tf from "@tensorflow/tfjs";

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
};

export function validateConfig(c: AutoencoderConfig): void {
  const factor = 2 ** c.filters.length;
  if (c.filters.length === 0) throw new Error("model config: filters must name at least one encoder block");
  if (c.height % factor !== 0 || c.width % factor !== 0)
    throw new Error(`model config: input ${c.height}×${c.width} must be divisible by 2^${c.filters.length} = ${factor}`);
  if (![1, 3].includes(c.channels)) throw new Error(`model config: channels must be 1 or 3, got ${c.channels}`);
}

export function buildAutoencoder(config: Partial<AutoencoderConfig> = {}): tf.LayersModel {
  const c = { ...DEFAULT_MODEL, ...config };
  validateConfig(c);
  const k = c.kernelSize ?? 3;
  let seed = c.seed ?? 1;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [c.height, c.width, c.channels], name: "image" });
  let x: tf.SymbolicTensor = input;
  c.filters.forEach((f, i) => {
    x = tf.layers
      .conv2d({ filters: f, kernelSize: k, strides: 2, padding: "same", activation: "relu", kernelInitializer: init(), name: `enc${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
  });
  [...c.filters].reverse().forEach((f, i) => {
    x = tf.layers
      .conv2dTranspose({ filters: f, kernelSize: k, strides: 2, padding: "same", activation: "relu", kernelInitializer: init(), name: `dec${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
  });
  const output = tf.layers
    .conv2d({ filters: c.channels, kernelSize: k, padding: "same", activation: "sigmoid", kernelInitializer: init(), name: "reconstruction" })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: "well_autoencoder" });
  model.compile({ optimizer: tf.train.adam(c.learningRate ?? 1e-3), loss: c.loss === "mae" ? "meanAbsoluteError" : "meanSquaredError" });
  return model;
}
