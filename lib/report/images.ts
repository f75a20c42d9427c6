/**
 * Images for the spill detector's figures. toPng turns an HWC Float32Array in [0, 1] (what lib/detector's wells
 * decoder gives) into PNG bytes with sharp, upscaled with nearest neighbour so that a 32×48 well stays sharp-edged;
 * errorMapPng draws an error map in heat colours on a colour scale that can be shared across examples (then a bright
 * map means a large error, not just "the largest in its image"); pngGrid lays PNGs out for a file. pickExamples →
 * selectImages → reconstructionExamples → reconstructionTiles make the normal-vs-spill reconstruction figures.
 *
 *   const png = await toPng(image, [32, 48, 3], { scale: 4 });              // 192×128 PNG bytes
 *   const heat = await errorMapPng(map, 32, 48, { scale: 4, max: 0.02 });   // same size, inferno colours
 */
import sharp from "sharp";
import { indicesOf } from "../detector/labels";
import { errorMap, mseScore } from "../detector/scores";
import { describeShape, gatherImages, imageCount, imageSize, type ShapeLike, toImageShape } from "../detector/shape";
import { percentile } from "../detector/thresholds";
// ---------------------------------------------------------------------------------------------------------------
// Images

function checkScale(scale: number): void {
  if (!(Number.isInteger(scale) && scale >= 1)) throw new Error(`scale must be a positive integer, got ${scale}`);
}

/**
 * Raw 8-bit HWC pixels → PNG, upscaled `scale` times with nearest neighbour (each pixel becomes a scale×scale
 * block).
 */
async function encodeRaw(
  bytes: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  scale: number,
): Promise<Buffer> {
  let img = sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { raw: { width, height, channels } });
  if (scale > 1) img = img.resize(width * scale, height * scale, { kernel: "nearest" });
  if (channels === 1) img = img.toColourspace("b-w"); // else libvips writes a 1-channel input as RGB
  return img.png().toBuffer();
}

/**
 * An HWC image with values in [0, 1] (1 or 3 channels) as PNG bytes: `await toPng(img, [32, 48, 3], { scale: 4 })`
 * → 192×128.
 */
export async function toPng(
  image: ArrayLike<number>,
  shape: ShapeLike,
  options: { scale?: number } = {},
): Promise<Buffer> {
  const { height, width, channels } = toImageShape(shape);
  const scale = options.scale ?? 1;
  checkScale(scale);
  if (channels !== 1 && channels !== 3) throw new Error(`toPng: channels must be 1 or 3, got ${channels}`);
  if (image.length !== height * width * channels)
    throw new Error(
      `toPng: image has ${image.length} values but ${height}×${width}×${channels} needs ${height * width * channels}`,
    );
  const bytes = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = image[i];
    if (!Number.isFinite(v)) throw new Error(`toPng: value ${i} is ${v}; pixels must be finite numbers in [0, 1]`);
    bytes[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  return encodeRaw(bytes, height, width, channels, scale);
}

// matplotlib's "inferno" sampled at 9 evenly spaced points (written here: sharp has no colour maps). Perceptually
// uniform and dark at zero, so small errors recede and large ones glow; linear interpolation between the stops.
const INFERNO: [number, number, number][] = [
  [0, 0, 4],
  [31, 12, 72],
  [85, 15, 109],
  [136, 34, 106],
  [186, 54, 85],
  [227, 89, 51],
  [249, 142, 9],
  [249, 201, 50],
  [252, 255, 164],
];

/**
 * The heat colour of t in [0, 1] (clipped) as [r, g, b] bytes: `heatColour(0)` → [0, 0, 4],
 * `heatColour(1)` → [252, 255, 164].
 */
export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [INFERNO[i], INFERNO[i + 1]];
  return [0, 1, 2].map((k) => Math.round(a[k] + f * (b[k] - a[k]))) as [number, number, number];
}

/**
 * An H×W error map as a heat-coloured PNG, 0 → dark and `max` (and above) → bright. Pass the same `max` for every
 * example so colours compare across images; default: this map's own maximum.
 *   await errorMapPng(map, 32, 48, { scale: 4, max: 0.02 })
 */
export async function errorMapPng(
  map: ArrayLike<number>,
  height: number,
  width: number,
  options: { scale?: number; max?: number } = {},
): Promise<Buffer> {
  toImageShape([height, width, 1]);
  const scale = options.scale ?? 1;
  checkScale(scale);
  if (map.length !== height * width)
    throw new Error(`errorMapPng: map has ${map.length} values but ${height}×${width} needs ${height * width}`);
  let max = options.max;
  if (max === undefined) {
    max = 0;
    for (let i = 0; i < map.length; i++) if (map[i] > max) max = map[i];
    if (max === 0) max = 1; // an all-zero map: any scale draws it dark
  }
  if (!(Number.isFinite(max) && max > 0))
    throw new Error(`errorMapPng: max must be a positive finite number, got ${max}`);
  const rgb = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) rgb.set(heatColour(map[i] / max), i * 3);
  return encodeRaw(rgb, height, width, 3, scale);
}

/**
 * Lay PNGs out in a grid, `gap` pixels apart on a plain background: each column as wide as its widest tile, each row
 * as tall as its tallest, tiles at their cells' top left. A null tile leaves its cell empty, so a column of nulls is a
 * spacer `gap` wide. Made with sharp, for PNG files (notebooks use display.imageGrid).
 *   await pngGrid([[normalIn, normalOut, null, spillIn, spillOut]], { gap: 4 })
 */
export async function pngGrid(
  rows: (Uint8Array | null)[][],
  options: { gap?: number; background?: string } = {},
): Promise<Buffer> {
  const gap = options.gap ?? 4;
  if (!(Number.isInteger(gap) && gap >= 0)) throw new Error(`pngGrid: gap must be a non-negative integer, got ${gap}`);
  if (rows.length === 0 || rows.every((r) => r.length === 0)) throw new Error("pngGrid: no tiles");
  const sizes = await Promise.all(rows.map((r) => Promise.all(r.map(async (t) => (t ? sharp(t).metadata() : null)))));
  if (sizes.flat().every((m) => m === null)) throw new Error("pngGrid: every tile is empty");
  const columns = Math.max(...rows.map((r) => r.length));
  const colWidth = Array.from({ length: columns }, (_, x) => Math.max(0, ...sizes.map((r) => r[x]?.width ?? 0)));
  const rowHeight = sizes.map((r) => Math.max(0, ...r.map((m) => m?.height ?? 0)));
  const offsets = (lengths: number[]) =>
    lengths.map((_, i) => gap + lengths.slice(0, i).reduce((a, l) => a + l + gap, 0));
  const [left, top] = [offsets(colWidth), offsets(rowHeight)];
  const composites: sharp.OverlayOptions[] = [];
  rows.forEach((r, y) =>
    r.forEach((t, x) => t && composites.push({ input: Buffer.from(t), left: left[x], top: top[y] })),
  );
  const total = (lengths: number[]) => lengths.reduce((a, l) => a + l + gap, gap);
  return sharp({
    create: {
      width: total(colWidth),
      height: total(rowHeight),
      channels: 3,
      background: options.background ?? "#ffffff",
    },
  })
    .composite(composites)
    .removeAlpha()
    .png()
    .toBuffer();
}

// ---------------------------------------------------------------------------------------------------------------
// Example reconstructions

/**
 * Indices of up to `perClass` normals and as many spills, spread evenly over each class (deterministic), interleaved
 * normal, spill, normal, spill… so that a grid shows them side by side: `pickExamples(validation.labels, 4)`.
 */
export function pickExamples(labels: ArrayLike<number>, perClass: number): number[] {
  if (!(Number.isInteger(perClass) && perClass > 0))
    throw new Error(`pickExamples: perClass must be a positive integer, got ${perClass}`);
  for (let i = 0; i < labels.length; i++)
    if (labels[i] !== 0 && labels[i] !== 1)
      throw new Error(`pickExamples: labels[${i}] is ${labels[i]}; labels must be 0 (normal) or 1 (spill)`);
  const normals = indicesOf(labels, 0);
  const spills = indicesOf(labels, 1);
  const m = Math.min(perClass, normals.length, spills.length);
  if (m === 0)
    throw new Error(`pickExamples: need both classes, got ${normals.length} normals and ${spills.length} spills`);
  const spread = (idx: number[]) => Array.from({ length: m }, (_, k) => idx[Math.floor(((k + 0.5) * idx.length) / m)]);
  const [n, s] = [spread(normals), spread(spills)];
  return n.flatMap((v, k) => [v, s[k]]);
}

/** The images at `indices` of a flat NHWC batch, back to back: `selectImages(validation.data, [3, 7], [32, 48, 3])`. */
export function selectImages(data: Float32Array, indices: number[], shape: ShapeLike): Float32Array {
  const count = imageCount(data, shape, "selectImages");
  // checked here too, for this function's own wording of the error (gatherImages says "outside N images")
  const bad = indices.find((i) => !(Number.isInteger(i) && i >= 0 && i < count));
  if (bad !== undefined) throw new Error(`selectImages: index ${bad} is outside the batch of ${count} images`);
  return gatherImages(data, imageSize(shape), indices);
}

export interface ReconstructionExample {
  label: number;
  input: Float32Array;
  recon: Float32Array;
  /** Per-pixel squared error averaged over channels (lib/scores errorMap), H×W. */
  errorMap: Float32Array;
  /** The image's MSE score. */
  mse: number;
}

/**
 * Pair each input with its reconstruction, error map and MSE: `reconstructionExamples(inputs, recons, labels, shape)`.
 */
export function reconstructionExamples(
  inputs: Float32Array,
  recons: Float32Array,
  labels: ArrayLike<number>,
  shape: ShapeLike,
): ReconstructionExample[] {
  const s = toImageShape(shape);
  const per = s.height * s.width * s.channels;
  if (inputs.length !== recons.length)
    throw new Error(`reconstructionExamples: ${inputs.length} input values but ${recons.length} reconstructed`);
  if (inputs.length !== labels.length * per)
    throw new Error(
      `reconstructionExamples: ${inputs.length} values for ${labels.length} labels of ${describeShape(s)}`,
    );
  return Array.from(labels, (label, i) => {
    const input = inputs.slice(i * per, (i + 1) * per);
    const recon = recons.slice(i * per, (i + 1) * per);
    return { label, input, recon, errorMap: errorMap(input, recon, s), mse: mseScore(input, recon) };
  });
}

export interface ReconstructionTile {
  label: number;
  mse: number;
  input: Buffer;
  recon: Buffer;
  error: Buffer;
}

/**
 * PNGs of each example's input, reconstruction and error map, the error maps on one shared colour scale:
 * `const { tiles, max } = await reconstructionTiles(examples, shape, { scale: 4 })`. The scale's top, `max`, is the
 * given one or else the `percentile`-th percentile (default 99) of all the examples' pixel errors together: the very
 * largest error is one hot pixel of one spill, and scaling to it would turn every other map black.
 */
export async function reconstructionTiles(
  examples: ReconstructionExample[],
  shape: ShapeLike,
  options: { scale?: number; max?: number; percentile?: number } = {},
): Promise<{ tiles: ReconstructionTile[]; max: number }> {
  const s = toImageShape(shape);
  if (examples.length === 0) throw new Error("reconstructionTiles: no examples");
  let max = options.max;
  if (max === undefined) {
    const pooled = new Float32Array(examples.reduce((n, e) => n + e.errorMap.length, 0));
    examples.reduce((at, e) => (pooled.set(e.errorMap, at), at + e.errorMap.length), 0);
    max = percentile(pooled, options.percentile ?? 99);
    if (!(max > 0)) max = Math.max(...pooled) || 1; // mostly perfect reconstructions: fall back to the largest error
  }
  const scale = options.scale ?? 4;
  const tiles = await Promise.all(
    examples.map(async (e) => ({
      label: e.label,
      mse: e.mse,
      input: await toPng(e.input, s, { scale }),
      recon: await toPng(e.recon, s, { scale }),
      error: await errorMapPng(e.errorMap, s.height, s.width, { scale, max }),
    })),
  );
  return { tiles, max };
}
