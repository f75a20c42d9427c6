/**
 * The per-pixel MLE avatar generator: every pixel-channel of an avatar is an independent categorical variable whose
 * maximum-likelihood estimate is the empirical distribution of that pixel-channel over the training images.
 *
 * Images are decoded to 8-bit RGBA (alpha is a channel like the others, and written PNGs keep transparency).
 * The model keeps the training images themselves (memory = pixels × channels × images bytes) plus, per
 * pixel-channel, its sorted distinct values with their counts in flat typed arrays — never a 256-bin histogram.
 *
 *   import { loadAvatars, fitPixelModel, sampleAvatar, writeAvatarPng } from "../dist/lib/avatars";
 *   const model = fitPixelModel(await loadAvatars());                    // resolveData("avatars"), 528×560
 *   const img = sampleAvatar(model, { sampler: "weighted", seed: 1 });   // { width, height, data: RGBA bytes }
 *   await writeAvatarPng(img, "avatars/weighted-seed-1.png");
 *
 * Samplers (both seeded):
 *   "weighted"  the MLE categorical: the value of a uniformly chosen training image at that pixel-channel
 *               (a value seen in 3 of 11 images comes with probability 3/11);
 *   "uniform"   uniform over the distinct values seen at that pixel-channel (the course seeds' "mle" variant).
 *   wholePixel: true draws RGBA together (one training image per pixel for "weighted", one of the distinct observed
 *   RGBA colours for "uniform"), so every colour is a real one.
 *
 * Command line (scripts/avatars.ts):
 *   npm run avatars -- --out avatars --count 5 --seed 1 [--sampler uniform] [--whole-pixel] [--size 64x64]
 *     [--data <folder>]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../common/atomic";
import { resolveData } from "../common/paths";

/** An 8-bit RGBA image, rows top to bottom, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface AvatarSet {
  width: number;
  height: number;
  files: string[];
  images: RgbaImage[];
  /** What was done to make the images agree, one line per changed file (empty when nothing was needed). */
  notes: string[];
}

export interface LoadOptions {
  /** Target size; default: the first image's size. */
  width?: number;
  height?: number;
  /** How a differently shaped image is brought to the size (sharp's `fit`); default "contain" (transparent padding). */
  fit?: "contain" | "fill" | "cover";
}

export const CHANNELS = 4;

/**
 * Decode one image file to RGBA at the given size (or its own size).
 * Reconciled: grey and grey+alpha are expanded to RGB, images without alpha get an opaque alpha, 16-bit and CMYK are
 * converted to 8-bit sRGB. Not reconciled (an error naming the file): unreadable or non-image files, and images with
 * more than 4 channels (multi-band TIFF and the like), where no channel can be said to be the alpha.
 */
export async function readRgba(
  file: string,
  options: LoadOptions = {},
): Promise<{ image: RgbaImage; note: string | null }> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new Error(`${file}: not a readable image (${e instanceof Error ? e.message : e})`);
  }
  const channels = meta.channels ?? 0;
  if (channels < 1 || channels > 4)
    throw new Error(
      `${file}: ${channels} channels cannot be reconciled to RGBA (only grey, grey+alpha, RGB, RGBA, CMYK)`,
    );
  let pipeline = sharp(file).toColourspace("srgb").ensureAlpha();
  const resized =
    options.width !== undefined &&
    options.height !== undefined &&
    (meta.width !== options.width || meta.height !== options.height);
  if (resized)
    pipeline = pipeline.resize(options.width, options.height, {
      fit: options.fit ?? "contain",
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    });
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${file}: could not be decoded (${e instanceof Error ? e.message : e})`);
  }
  if (raw.info.channels !== CHANNELS)
    throw new Error(`${file}: decoded to ${raw.info.channels} channels, expected RGBA`);
  const changes: string[] = [];
  if (meta.space !== "srgb" || meta.depth !== "uchar")
    changes.push(`${meta.space ?? "?"}/${meta.depth ?? "?"} → 8-bit sRGB`);
  if (channels <= 2) changes.push("grey → RGB");
  if (!meta.hasAlpha) changes.push("opaque alpha added");
  if (resized)
    changes.push(`${meta.width}×${meta.height} → ${options.width}×${options.height} (${options.fit ?? "contain"})`);
  const image = {
    width: raw.info.width,
    height: raw.info.height,
    data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length),
  };
  return { image, note: changes.length ? `${path.basename(file)}: ${changes.join(", ")}` : null };
}

/**
 * Every non-hidden file of a folder, decoded to RGBA and brought to one size (see LoadOptions), in name order.
 * Errors name the folder (missing, empty) or the file (not an image, channels that cannot be reconciled).
 */
export async function loadAvatars(dir: string = resolveData("avatars"), options: LoadOptions = {}): Promise<AvatarSet> {
  if (!fs.existsSync(dir)) throw new Error(`avatar folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`avatar folder ${dir} is not a folder`);
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => path.join(dir, e.name))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (files.length === 0) throw new Error(`avatar folder ${dir} holds no images`);
  let { width, height } = options;
  if ((width === undefined) !== (height === undefined))
    throw new Error(`loadAvatars: give both width and height, or neither`);
  const images: RgbaImage[] = [];
  const notes: string[] = [];
  for (const file of files) {
    const { image, note } = await readRgba(file, { ...options, width, height });
    // The first image fixes the size when none was given.
    width ??= image.width;
    height ??= image.height;
    images.push(image);
    if (note) notes.push(note);
  }
  return { width: width!, height: height!, files, images, notes };
}

/**
 * The fitted model: the training images and, per pixel-channel j, its distinct values
 * values[offsets[j]..offsets[j+1]) (ascending) with their counts.
 */
export interface PixelModel {
  width: number;
  height: number;
  files: string[];
  images: Uint8Array[];
  offsets: Uint32Array;
  values: Uint8Array;
  counts: Uint32Array;
}

/**
 * Fit the per-pixel-channel categoricals: collect each pixel-channel's distinct values and counts.
 * Time and memory O(pixels × channels × images).
 */
export function fitPixelModel(set: AvatarSet): PixelModel {
  const n = set.images.length;
  if (n === 0) throw new Error("fitPixelModel: no images");
  const size = set.width * set.height * CHANNELS;
  set.images.forEach((im, k) => {
    if (im.data.length !== size)
      throw new Error(
        `fitPixelModel: ${set.files[k] ?? `image ${k}`} is ${im.width}×${im.height}, ` +
          `expected ${set.width}×${set.height}`,
      );
  });
  const images = set.images.map((im) => im.data);
  const offsets = new Uint32Array(size + 1);
  let values = new Uint8Array(size * Math.min(n, 256));
  let counts = new Uint32Array(values.length);
  // A 256-slot tally reused for every pixel-channel; only the slots touched are read and cleared, so the work per
  // pixel-channel is O(images + distinct·log distinct), not O(256).
  const tally = new Uint32Array(256);
  let end = 0;
  for (let j = 0; j < size; j++) {
    const start = end;
    for (let k = 0; k < n; k++) {
      const v = images[k][j];
      if (tally[v]++ === 0) values[end++] = v;
    }
    values.subarray(start, end).sort();
    for (let i = start; i < end; i++) {
      counts[i] = tally[values[i]];
      tally[values[i]] = 0;
    }
    offsets[j + 1] = end;
  }
  values = values.slice(0, end);
  counts = counts.slice(0, end);
  return { width: set.width, height: set.height, files: set.files, images, offsets, values, counts };
}

/** Bytes held by the model's arrays (the training images included). */
export function modelBytes(model: PixelModel): number {
  return (
    model.images.reduce((s, im) => s + im.byteLength, 0) +
    model.offsets.byteLength +
    model.values.byteLength +
    model.counts.byteLength
  );
}

export { mulberry32 } from "../common/random";
import { mulberry32 } from "../common/random";

export type Sampler = "weighted" | "uniform";

export interface SampleOptions {
  sampler?: Sampler;
  seed?: number;
  /** Draw RGBA together per pixel instead of each channel on its own. */
  wholePixel?: boolean;
}

/** One generated avatar. The same model, sampler and seed always give the same bytes. */
export function sampleAvatar(model: PixelModel, options: SampleOptions = {}): RgbaImage {
  const { sampler = "weighted", seed = 1, wholePixel = false } = options;
  if (sampler !== "weighted" && sampler !== "uniform")
    throw new Error(`sampleAvatar: unknown sampler "${sampler}" (weighted | uniform)`);
  const rand = mulberry32(seed);
  const { images, offsets, values } = model;
  const n = images.length;
  const size = model.width * model.height * CHANNELS;
  const out = new Uint8Array(size);
  const pick = (m: number) => Math.floor(rand() * m);
  if (!wholePixel && sampler === "weighted") {
    for (let j = 0; j < size; j++) out[j] = images[pick(n)][j];
  } else if (!wholePixel) {
    for (let j = 0; j < size; j++) out[j] = values[offsets[j] + pick(offsets[j + 1] - offsets[j])];
  } else if (sampler === "weighted") {
    for (let j = 0; j < size; j += CHANNELS) {
      const src = images[pick(n)];
      for (let c = 0; c < CHANNELS; c++) out[j + c] = src[j + c];
    }
  } else {
    // Distinct RGBA colours at this pixel, found on the fly (images are few, so a linear scan beats a hash map).
    const distinct = new Int32Array(n);
    for (let j = 0; j < size; j += CHANNELS) {
      let d = 0;
      for (let k = 0; k < n; k++) {
        let seen = -1;
        for (let e = 0; e < d && seen < 0; e++) if (samePixel(images[distinct[e]], images[k], j)) seen = e;
        if (seen < 0) distinct[d++] = k;
      }
      const src = images[distinct[pick(d)]];
      for (let c = 0; c < CHANNELS; c++) out[j + c] = src[j + c];
    }
  }
  return { width: model.width, height: model.height, data: out };
}

const samePixel = (a: Uint8Array, b: Uint8Array, j: number) =>
  a[j] === b[j] && a[j + 1] === b[j + 1] && a[j + 2] === b[j + 2] && a[j + 3] === b[j + 3];

function checkSize(model: PixelModel, image: RgbaImage, what: string): void {
  if (
    image.width !== model.width ||
    image.height !== model.height ||
    image.data.length !== model.width * model.height * CHANNELS
  )
    throw new Error(`${what}: image is ${image.width}×${image.height}, the model ${model.width}×${model.height} RGBA`);
}

/** Count of value v at pixel-channel j (binary search in its sorted distinct values). */
function countAt(model: PixelModel, j: number, v: number): number {
  let lo = model.offsets[j];
  let hi = model.offsets[j + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (model.values[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < model.offsets[j + 1] && model.values[lo] === v ? model.counts[lo] : 0;
}

export const DEFAULT_ALPHA = 0.01;

/**
 * Log-likelihood (natural log) of an image under the model, each pixel-channel a categorical over 256 values with
 * add-α smoothing: p(v) = (count(v) + α) / (images + 256·α). The default α = 0.01 keeps the observed values dominant;
 * α = 1 (Laplace) would give 256/(11+256) ≈ 96% of the mass to values never seen with 11 training images.
 * bitsPerPixel = −logLik / ln 2 / pixels (all four channels of a pixel together).
 */
export function logLikelihood(
  model: PixelModel,
  image: RgbaImage,
  options: { alpha?: number } = {},
): { logLik: number; bitsPerPixel: number } {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0)) throw new Error(`logLikelihood: alpha must be > 0, got ${alpha}`);
  checkSize(model, image, "logLikelihood");
  const logDenominator = Math.log(model.images.length + 256 * alpha);
  let logLik = 0;
  for (let j = 0; j < image.data.length; j++)
    logLik += Math.log(countAt(model, j, image.data[j]) + alpha) - logDenominator;
  return { logLik, bitsPerPixel: -logLik / Math.LN2 / (model.width * model.height) };
}

/**
 * Entropy in bits of each pixel-channel's MLE categorical (no smoothing), combined over the 4 channels by mean
 * (default) or sum: a Float32Array of width × height, row-major. 0 where every training image agrees.
 */
export function entropyMap(model: PixelModel, options: { reduce?: "mean" | "sum" } = {}): Float32Array {
  const n = model.images.length;
  const pixels = model.width * model.height;
  const out = new Float32Array(pixels);
  const scale = options.reduce === "sum" ? 1 : 1 / CHANNELS;
  for (let p = 0; p < pixels; p++) {
    let h = 0;
    for (let j = p * CHANNELS; j < (p + 1) * CHANNELS; j++)
      for (let i = model.offsets[j]; i < model.offsets[j + 1]; i++) {
        const q = model.counts[i] / n;
        h -= q * Math.log2(q);
      }
    out[p] = h * scale;
  }
  return out;
}

/** Rows of a per-pixel map (e.g. entropyMap) for a plotly heatmap, keeping every step-th row and column. */
export function mapRows(map: Float32Array, width: number, step = 1): number[][] {
  if (width <= 0 || map.length % width !== 0)
    throw new Error(`mapRows: ${map.length} values do not make rows of ${width}`);
  const rows: number[][] = [];
  for (let y = 0; y < map.length / width; y += step) {
    const row: number[] = [];
    for (let x = 0; x < width; x += step) row.push(Math.round(map[y * width + x] * 1000) / 1000);
    rows.push(row);
  }
  return rows;
}

/** Mean absolute difference per channel value (0–255) between two RGBA byte arrays of one size. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`meanAbsDiff: sizes differ (${a.length} vs ${b.length} bytes)`);
  let s = 0;
  for (let j = 0; j < a.length; j++) s += Math.abs(a[j] - b[j]);
  return s / a.length;
}

export interface Nearest {
  index: number;
  file: string;
  distance: number;
}

/** For each image, the nearest training avatar by mean absolute difference per channel (a memorisation check). */
export function nearestTraining(model: PixelModel, samples: RgbaImage[]): Nearest[] {
  return samples.map((s) => {
    checkSize(model, s, "nearestTraining");
    return nearestAmong(model, s.data, -1);
  });
}

/** The reference for nearestTraining: each training avatar's distance to its nearest other training avatar. */
export function trainingNearest(model: PixelModel): Nearest[] {
  if (model.images.length < 2) throw new Error("trainingNearest: needs at least 2 training images");
  return model.images.map((im, k) => nearestAmong(model, im, k));
}

function nearestAmong(model: PixelModel, data: Uint8Array, skip: number): Nearest {
  let best: Nearest = { index: -1, file: "", distance: Infinity };
  model.images.forEach((im, k) => {
    if (k === skip) return;
    const d = meanAbsDiff(data, im);
    if (d < best.distance) best = { index: k, file: path.basename(model.files[k] ?? String(k)), distance: d };
  });
  return best;
}

/** PNG bytes (RGBA, transparency kept) of an image. */
export async function encodePng(image: RgbaImage): Promise<Buffer> {
  if (image.data.length !== image.width * image.height * CHANNELS)
    throw new Error(`encodePng: ${image.data.length} bytes is not ${image.width}×${image.height} RGBA`);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: CHANNELS } })
    .png()
    .toBuffer();
}

/** Write an image as an RGBA PNG, atomically (a crash never leaves half a file). */
export async function writeAvatarPng(image: RgbaImage, file: string): Promise<void> {
  writeFileAtomic(file, await encodePng(image));
}

/** The file name that says how an avatar was made, e.g. "weighted-seed-1.png", "uniform-pixel-seed-3-64x64.png". */
export function avatarFileName(options: SampleOptions & { size?: string }): string {
  const { sampler = "weighted", seed = 1, wholePixel = false, size } = options;
  return `${sampler}${wholePixel ? "-pixel" : ""}-seed-${seed}${size ? `-${size}` : ""}.png`;
}

/** Sample `count` avatars with seeds seed, seed+1, … and write each to outDir under avatarFileName; returns paths. */
export async function writeGeneratedAvatars(
  model: PixelModel,
  outDir: string,
  options: SampleOptions & { count?: number; size?: string } = {},
): Promise<string[]> {
  const { count = 5, seed = 1 } = options;
  const written: string[] = [];
  for (let i = 0; i < count; i++) {
    const opts = { ...options, seed: seed + i };
    const file = path.join(outDir, avatarFileName(opts));
    await writeAvatarPng(sampleAvatar(model, opts), file);
    written.push(file);
  }
  return written;
}

/**
 * Fit on a folder of avatars and write `count` samples (the work of `npm run avatars`, scripts/avatars.ts):
 *   await generateAvatars({ out: "avatars", count: 5, seed: 1 })   // the five committed avatars
 */
export async function generateAvatars(o: {
  data?: string;
  out: string;
  count: number;
  seed: number;
  sampler?: Sampler;
  wholePixel?: boolean;
  size?: { width: number; height: number };
}): Promise<string[]> {
  const set = await loadAvatars(o.data ?? resolveData("avatars"), o.size ?? {});
  const model = fitPixelModel(set);
  return writeGeneratedAvatars(model, o.out, {
    count: o.count,
    seed: o.seed,
    sampler: o.sampler ?? "weighted",
    wholePixel: o.wholePixel ?? false,
    size: o.size ? `${o.size.width}x${o.size.height}` : undefined,
  });
}
