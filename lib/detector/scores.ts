/**
 * Anomaly scores from an image and its autoencoder reconstruction (higher = more anomalous).
 *
 * Images are Float32Array in HWC layout (row by row, channels interleaved) with values in [0, 1]; a batch is N such
 * images back to back (NHWC, what `tensor.dataSync()` gives). The error map is the per-pixel squared error averaged
 * over channels (H×W). Scores:
 *
 *   mse          mean squared error over all values (= the mean of the error map)
 *   maxSmoothed  maximum of the error map box-filtered with a (2r+1)² window: a small spill is a compact blob of error
 *                that a whole-image mean dilutes, while a single noisy pixel is averaged away
 *   topKMean     mean of the largest `fraction` of the pixel errors
 *   ssim         1 − mean SSIM of the luminance, box window of radius r (structure rather than brightness)
 *   zTopKMean    topKMean of the *standardised* error map: each pixel's error minus its mean over reference normals,
 *                divided by their standard deviation (`fitErrorStats`). Normal wells always reconstruct worse at the
 *                rim and the crop's edges; standardising stops those places from hiding a spill elsewhere.
 *
 * Borders: a window that sticks out of the image is clipped and averages only the pixels inside it (so every pixel has
 * a value, and a spill at the edge is not missed; edge means average fewer pixels and are a little noisier).
 * Box means use a summed-area table, O(H·W) whatever the radius.
 *
 *   import { errorMap, maxSmoothedErrorScore, scoreBatch } from "../dist/lib/detector";
 *   const shape = { height: 32, width: 48, channels: 3 };          // or the tuple [32, 48, 3]
 *   const map = errorMap(input, recon, shape);                     // Float32Array(32 * 48)
 *   maxSmoothedErrorScore(map, shape, 2);                           // one number
 *   scoreBatch("topKMean", inputs, recons, shape, { fraction: 0.01 }) // Float32Array(N)
 *   const stats = fitErrorStats(normalInputs, normalRecons, shape);  // reference normals, not the images scored
 *   scoreBatch("zTopKMean", inputs, recons, shape, { errorStats: stats })
 */

import { describeShape, type ImageShape, imageCount, type ShapeLike, toImageShape } from "./shape";

export type { ImageShape, ShapeLike };

export const SCORE_NAMES = ["mse", "maxSmoothed", "topKMean", "ssim", "zTopKMean"] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];
/** The scores that need nothing but an image and its reconstruction (zTopKMean also needs `ErrorStats`). */
export const PLAIN_SCORES = ["mse", "maxSmoothed", "topKMean", "ssim"] as const satisfies readonly ScoreName[];

/** Per-pixel mean and standard deviation of the error map over reference normal images (H×W each). */
export interface ErrorStats {
  height: number;
  width: number;
  mean: Float32Array;
  sd: Float32Array;
  /** How many images they were fitted on. */
  count: number;
}

export interface ScoreOptions {
  /** Window radius for "maxSmoothed" (default 2, a 5×5 window) and "ssim" (default 3, 7×7). */
  radius?: number;
  /** Fraction of pixels for "topKMean" and "zTopKMean", in (0, 1]. Default 0.01. */
  fraction?: number;
  /** Reference statistics for "zTopKMean" (required by it). */
  errorStats?: ErrorStats;
}

/** Added to every standard deviation so that a pixel whose error never varies cannot divide by zero. */
export const ERROR_SD_FLOOR = 1e-4;

function checkImage(name: string, data: ArrayLike<number>, shape: ImageShape): void {
  const need = shape.height * shape.width * shape.channels;
  if (data.length !== need)
    throw new Error(`${name} has ${data.length} values but shape ${describeShape(shape)} needs ${need}`);
}

function checkMap(map: ArrayLike<number>, like: ShapeLike): ImageShape {
  const shape = toImageShape(like, false);
  const need = shape.height * shape.width;
  if (map.length !== need)
    throw new Error(`error map has ${map.length} values but ${shape.height}×${shape.width} needs ${need}`);
  return shape;
}

function checkRadius(radius: number): void {
  if (!Number.isInteger(radius) || radius < 0) throw new Error(`radius must be a non-negative integer, got ${radius}`);
}

function errorMapInto(
  input: ArrayLike<number>,
  recon: ArrayLike<number>,
  offset: number,
  shape: ImageShape,
  out: Float32Array,
): Float32Array {
  const c = shape.channels;
  for (let p = 0, k = offset; p < out.length; p++) {
    let sum = 0;
    for (let ch = 0; ch < c; ch++, k++) {
      const d = input[k] - recon[k];
      sum += d * d;
    }
    out[p] = sum / c;
  }
  return out;
}

/**
 * Per-pixel squared error averaged over channels, H×W:
 * `errorMap(input, recon, { height: 2, width: 2, channels: 3 })`.
 */
export function errorMap(input: ArrayLike<number>, recon: ArrayLike<number>, like: ShapeLike): Float32Array {
  const shape = toImageShape(like);
  checkImage("input", input, shape);
  checkImage("reconstruction", recon, shape);
  return errorMapInto(input, recon, 0, shape, new Float32Array(shape.height * shape.width));
}

/**
 * Mean of (input − recon)² over the `length` values from `offset`, summed in float64: the one mean squared error of
 * the project (mseScore, scoreBatch's "mse" and so the training's validation loss).
 */
function meanSquaredError(input: ArrayLike<number>, recon: ArrayLike<number>, offset: number, length: number): number {
  let sum = 0;
  for (let k = offset, end = offset + length; k < end; k++) {
    const d = input[k] - recon[k];
    sum += d * d;
  }
  return sum / length;
}

/** Mean squared error over all values: `mseScore(input, recon)`. */
export function mseScore(input: ArrayLike<number>, recon: ArrayLike<number>): number {
  if (input.length !== recon.length)
    throw new Error(`input has ${input.length} values but reconstruction has ${recon.length}`);
  if (input.length === 0) throw new Error("mseScore of empty images");
  return meanSquaredError(input, recon, 0, input.length);
}

/**
 * Summed-area table of an H×W map: sat[(y + 1)(W + 1) + (x + 1)] = sum of map[0..y][0..x], with a zero first row and
 * column. Float64 so that the differences of large sums stay exact enough.
 */
function summedArea(
  map: ArrayLike<number>,
  height: number,
  width: number,
  sat = new Float64Array((height + 1) * (width + 1)),
): Float64Array {
  const w1 = width + 1;
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += map[y * width + x];
      sat[(y + 1) * w1 + x + 1] = sat[y * w1 + x + 1] + row;
    }
  }
  return sat;
}

/**
 * Mean over each pixel's (2r+1)² window, clipped at the borders, via a summed-area table: four reads per pixel.
 * `sat` is scratch space of (H + 1)(W + 1) values.
 */
function boxMeans(
  map: ArrayLike<number>,
  height: number,
  width: number,
  r: number,
  out: Float32Array | Float64Array = new Float64Array(height * width),
  sat = new Float64Array((height + 1) * (width + 1)),
): Float32Array | Float64Array {
  summedArea(map, height, width, sat);
  const w1 = width + 1;
  for (let y = 0; y < height; y++) {
    const top = Math.max(0, y - r);
    const bottom = Math.min(height, y + r + 1);
    const rows = bottom - top;
    const y0 = top * w1;
    const y1 = bottom * w1;
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width, x + r + 1);
      out[y * width + x] = (sat[y1 + x1] - sat[y0 + x1] - sat[y1 + x0] + sat[y0 + x0]) / (rows * (x1 - x0));
    }
  }
  return out;
}

/** Mean over each pixel's (2r+1)² window, clipped at the borders: `boxFilter(map, shape, 1)` → Float32Array(H×W). */
export function boxFilter(map: ArrayLike<number>, like: ShapeLike, radius: number): Float32Array {
  const shape = checkMap(map, like);
  checkRadius(radius);
  return boxMeans(map, shape.height, shape.width, radius, new Float32Array(shape.height * shape.width)) as Float32Array;
}

function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

/**
 * Maximum of the box-filtered error map: `maxSmoothedErrorScore(map, shape, 2)` (radius 0 = the largest pixel
 * error).
 */
export function maxSmoothedErrorScore(map: ArrayLike<number>, like: ShapeLike, radius = 2): number {
  const shape = checkMap(map, like);
  checkRadius(radius);
  return maxOf(boxMeans(map, shape.height, shape.width, radius));
}

/** A share of the pixels: in (0, 1], as taking none of them means nothing (thresholds' checkUnitInterval allows 0). */
function checkPositiveFraction(fraction: number): void {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`fraction must be in (0, 1], got ${fraction}`);
}

function topKMean(map: ArrayLike<number>, fraction: number, scratch: Float32Array): number {
  const n = map.length;
  const k = Math.min(n, Math.max(1, Math.ceil(fraction * n)));
  for (let i = 0; i < n; i++) scratch[i] = map[i];
  scratch.sort(); // ascending; the top k are at the end
  let sum = 0;
  for (let i = n - k; i < n; i++) sum += scratch[i];
  return sum / k;
}

/** Mean of the largest ⌈fraction · n⌉ (at least 1) pixel errors: `topKMeanScore(map, 0.01)`. */
export function topKMeanScore(map: ArrayLike<number>, fraction = 0.01): number {
  checkPositiveFraction(fraction);
  if (map.length === 0) throw new Error("topKMeanScore of an empty error map");
  return topKMean(map, fraction, new Float32Array(map.length));
}

/** Luminance of an HWC image: Rec. 601 weights for 3 channels, the channel itself for 1, the channel mean otherwise. */
function luminance(
  image: ArrayLike<number>,
  shape: ImageShape,
  offset = 0,
  out = new Float64Array(shape.height * shape.width),
): Float64Array {
  const c = shape.channels;
  for (let p = 0, k = offset; p < out.length; p++, k += c) {
    if (c === 3) out[p] = 0.299 * image[k] + 0.587 * image[k + 1] + 0.114 * image[k + 2];
    else {
      let s = 0;
      for (let ch = 0; ch < c; ch++) s += image[k + ch];
      out[p] = s / c;
    }
  }
  return out;
}

const C1 = 0.01 ** 2; // (K1 · L)² with L = 1, the dynamic range of [0, 1] images (Wang et al. 2004)
const C2 = 0.03 ** 2;

/**
 * Mean SSIM of two H×W maps with a box window of radius r (clipped at the borders), population (1/n) statistics.
 * Written here: no package in the stack computes SSIM on plain arrays. Five box-filtered maps, O(H·W).
 */
function meanSsim(x: Float64Array, y: Float64Array, height: number, width: number, r: number): number {
  const n = x.length;
  const product = (a: Float64Array, b: Float64Array) => a.map((v, i) => v * b[i]);
  const [mx, my, mxx, myy, mxy] = [x, y, product(x, x), product(y, y), product(x, y)].map((m) =>
    boxMeans(m, height, width, r),
  );
  let total = 0;
  for (let i = 0; i < n; i++) {
    const vx = mxx[i] - mx[i] * mx[i];
    const vy = myy[i] - my[i] * my[i];
    const cxy = mxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + C1) * (2 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
  }
  return total / n;
}

/** 1 − mean SSIM of the luminances (0 for identical images): `ssimScore(input, recon, shape, 3)`. */
export function ssimScore(input: ArrayLike<number>, recon: ArrayLike<number>, like: ShapeLike, radius = 3): number {
  const shape = toImageShape(like);
  checkImage("input", input, shape);
  checkImage("reconstruction", recon, shape);
  checkRadius(radius);
  return 1 - meanSsim(luminance(input, shape), luminance(recon, shape), shape.height, shape.width, radius);
}

/**
 * Per-pixel mean and standard deviation (population) of the error maps of reference normal images and their
 * reconstructions: `fitErrorStats(inputs, recons, [32, 48, 3])`. Needs at least two images.
 */
export function fitErrorStats(inputs: ArrayLike<number>, recons: ArrayLike<number>, like: ShapeLike): ErrorStats {
  const shape = toImageShape(like);
  const size = shape.height * shape.width * shape.channels,
    pixels = shape.height * shape.width;
  if (inputs.length !== recons.length)
    throw new Error(`fitErrorStats: inputs have ${inputs.length} values but reconstructions have ${recons.length}`);
  const count = imageCount(inputs, shape, "fitErrorStats");
  if (count < 2) throw new Error(`fitErrorStats: need at least two reference images, got ${count}`);
  const sum = new Float64Array(pixels),
    sq = new Float64Array(pixels),
    map = new Float32Array(pixels);
  for (let i = 0; i < count; i++) {
    errorMapInto(inputs, recons, i * size, shape, map);
    for (let p = 0; p < pixels; p++) {
      sum[p] += map[p];
      sq[p] += map[p] * map[p];
    }
  }
  const mean = new Float32Array(pixels),
    sd = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const m = sum[p] / count;
    mean[p] = m;
    sd[p] = Math.sqrt(Math.max(0, sq[p] / count - m * m));
  }
  return { height: shape.height, width: shape.width, mean, sd, count };
}

function checkStats(stats: ErrorStats | undefined, shape: ImageShape): ErrorStats {
  if (!stats)
    throw new Error(
      'score "zTopKMean" needs errorStats: fitErrorStats(...) on reference normals (or readErrorStats(modelDir))',
    );
  const pixels = shape.height * shape.width;
  if (
    stats.height !== shape.height ||
    stats.width !== shape.width ||
    stats.mean.length !== pixels ||
    stats.sd.length !== pixels
  )
    throw new Error(
      `errorStats are for ${stats.height}×${stats.width} images, the batch is ${shape.height}×${shape.width}`,
    );
  return stats;
}

/**
 * One score per image of a flat NHWC batch: `scoreBatch("maxSmoothed", inputs, recons, shape, { radius: 2 })`
 * → Float32Array(N). Unknown names, ragged batches and mismatched lengths are errors.
 */
export function scoreBatch(
  name: ScoreName,
  inputs: ArrayLike<number>,
  recons: ArrayLike<number>,
  like: ShapeLike,
  options: ScoreOptions = {},
): Float32Array {
  if (!SCORE_NAMES.includes(name)) throw new Error(`unknown score "${name}"; choose one of ${SCORE_NAMES.join(", ")}`);
  const shape = toImageShape(like);
  const stats = name === "zTopKMean" ? checkStats(options.errorStats, shape) : null;
  const size = shape.height * shape.width * shape.channels;
  if (inputs.length !== recons.length)
    throw new Error(`inputs have ${inputs.length} values but reconstructions have ${recons.length}`);
  const count = imageCount(inputs, shape, "scoreBatch");
  const pixels = shape.height * shape.width;
  const radius = options.radius ?? (name === "ssim" ? 3 : 2);
  const fraction = options.fraction ?? 0.01;
  checkRadius(radius);
  checkPositiveFraction(fraction);
  // buffers reused across the batch
  const map = new Float32Array(pixels);
  const scratch = new Float32Array(pixels);
  const sat = new Float64Array((shape.height + 1) * (shape.width + 1));
  const smoothed = new Float64Array(pixels);
  const lumA = new Float64Array(pixels);
  const lumB = new Float64Array(pixels);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * size;
    if (name === "ssim") {
      luminance(inputs, shape, offset, lumA);
      luminance(recons, shape, offset, lumB);
      out[i] = 1 - meanSsim(lumA, lumB, shape.height, shape.width, radius);
      continue;
    }
    if (name === "mse") {
      out[i] = meanSquaredError(inputs, recons, offset, size);
      continue;
    }
    errorMapInto(inputs, recons, offset, shape, map);
    if (name === "maxSmoothed") out[i] = maxOf(boxMeans(map, shape.height, shape.width, radius, smoothed, sat));
    else {
      if (stats) for (let p = 0; p < pixels; p++) map[p] = (map[p] - stats.mean[p]) / (stats.sd[p] + ERROR_SD_FLOOR);
      out[i] = topKMean(map, fraction, scratch);
    }
  }
  return out;
}
