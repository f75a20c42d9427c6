/**
 * What notebook 02 (per-pixel MLE avatars) shows, built here so that the notebook only sets parameters: image grids
 * (HTML, the PNGs inline), tables as the argument list of lib/report's `table()` and charts as that of its
 * `chart()`, and one-line summaries for `console.log`.
 *
 *   import { chart, table } from "../dist/lib/report";
 *   import { sampleVariants, sampleGrid, likelihoodRows, likelihoodTable } from "../dist/lib/avatars";
 *   const samples = sampleVariants(model, [1, 2, 3]);          // weighted, uniform, whole pixel × each seed
 *   tslab.display.html(await sampleGrid(samples, { width: 264, columns: 3 }));
 *   tslab.display.html(table(...likelihoodTable(likelihoodRows(set, model, samples, 0.01))));
 *
 * Samples carry their variant's label and a caption ("weighted, seed 1") that the grids and tables reuse.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { image, imageGrid } from "../report/display";
import { formatStyle, type ChartArgs, type Style, type TableArgs } from "../styles";
import { renderStyle, renderStyles, type RenderOptions } from "./avatar-render";
import {
  avatarFileName,
  encodePng,
  entropyMap,
  fitPixelModel,
  loadAvatars,
  logLikelihood,
  mapRows,
  meanAbsDiff,
  modelBytes,
  nearestTraining,
  readRgba,
  sampleAvatar,
  trainingNearest,
  type AvatarSet,
  type Nearest,
  type PixelModel,
  type RgbaImage,
  type Sampler,
} from "./avatars";

/** An avatar's name for captions and axes: its file name without ".png". */
export function avatarName(file: string): string {
  return path.basename(file, ".png");
}

/** "11 images 528×560; notes: none": the size of a set and what loading had to change. */
export function describeAvatarSet(set: AvatarSet): string {
  const notes = set.notes.length ? set.notes.join("; ") : "none";
  return `${set.images.length} images ${set.width}×${set.height}; notes: ${notes}`;
}

/** The model's memory (MB of its arrays, training images included) and its mean number of distinct values. */
export function describePixelModel(model: PixelModel): string {
  const distinct = model.values.length / (model.offsets.length - 1);
  return (
    `model arrays ${(modelBytes(model) / 2 ** 20).toFixed(1)} MB; ` +
    `${distinct.toFixed(2)} distinct values per pixel-channel on average`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Image grids

export interface GridOptions {
  /** Displayed width of each image in pixels; smaller images are enlarged with pixelated rendering. */
  width: number;
  /** Images per row. */
  columns: number;
}

/** A grid of RGBA images (encoded as inline PNGs), each with its caption if it has one. */
export async function avatarGrid(
  items: { image: RgbaImage; caption?: string }[],
  options: GridOptions,
): Promise<string> {
  const cells = await Promise.all(
    items.map(async (it) => ({
      html: image(await encodePng(it.image), { width: options.width, pixelated: it.image.width < options.width }),
      caption: it.caption,
    })),
  );
  return imageGrid(cells, { columns: options.columns });
}

/** The images of a set as a grid: the first `limit` (default all), captioned by name unless `captions: false`. */
export async function trainingGrid(
  set: AvatarSet,
  options: GridOptions & { limit?: number; captions?: boolean },
): Promise<string> {
  const { limit = set.images.length, captions = true } = options;
  const items = set.images
    .slice(0, limit)
    .map((im, i) => ({ image: im, caption: captions ? avatarName(set.files[i]) : undefined }));
  return avatarGrid(items, options);
}

// ---------------------------------------------------------------------------------------------------------------
// Samples

/** A sampler setting with its label. */
export interface SampleVariant {
  label: string;
  sampler: Sampler;
  wholePixel: boolean;
}

/** The three samplers the notebook compares: per channel weighted (the MLE) and uniform, and weighted whole pixels. */
export const SAMPLE_VARIANTS: readonly SampleVariant[] = [
  { label: "weighted", sampler: "weighted", wholePixel: false },
  { label: "uniform", sampler: "uniform", wholePixel: false },
  { label: "whole pixel", sampler: "weighted", wholePixel: true },
];

/** One sample of a variant and seed, captioned "<prefix><label>, seed <seed>". */
export interface LabelledSample extends SampleVariant {
  seed: number;
  image: RgbaImage;
  caption: string;
}

/** Every variant × every seed (variant by variant), each sampled from the model. */
export function sampleVariants(
  model: PixelModel,
  seeds: number[],
  options: { variants?: readonly SampleVariant[]; captionPrefix?: string } = {},
): LabelledSample[] {
  const { variants = SAMPLE_VARIANTS, captionPrefix = "" } = options;
  return variants.flatMap((v) =>
    seeds.map((seed) => ({
      ...v,
      seed,
      image: sampleAvatar(model, { sampler: v.sampler, wholePixel: v.wholePixel, seed }),
      caption: `${captionPrefix}${v.label}, seed ${seed}`,
    })),
  );
}

/** Samples as a captioned grid. */
export function sampleGrid(samples: LabelledSample[], options: GridOptions): Promise<string> {
  return avatarGrid(samples, options);
}

/**
 * The reproducibility check of the committed avatars: for each seed whose weighted sample is a file in `dir`
 * (named by avatarFileName), a line saying whether it is identical to sampleAvatar(model, { seed }) now.
 * Seeds without a file are skipped.
 */
export async function checkCommittedAvatars(model: PixelModel, seeds: number[], dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const seed of seeds) {
    const file = path.join(dir, avatarFileName({ sampler: "weighted", seed }));
    if (!fs.existsSync(file)) continue;
    const same = meanAbsDiff((await readRgba(file)).image.data, sampleAvatar(model, { seed }).data) === 0;
    lines.push(`${file}: ${same ? "identical to" : "DIFFERS from"} sampleAvatar(model, { seed: ${seed} })`);
  }
  return lines;
}

/** The pixel model fitted on the avatars of `dir` shrunk to each size × size (sharp's contain), by size. */
export async function fitResizedModels(sizes: number[], dir?: string): Promise<Map<number, PixelModel>> {
  const models = new Map<number, PixelModel>();
  for (const size of sizes) models.set(size, fitPixelModel(await loadAvatars(dir, { width: size, height: size })));
  return models;
}

/** One grid per resized model: every variant × seed on one row, captioned "64×64 weighted, seed 1". */
export function resizedSampleGrids(
  models: Map<number, PixelModel>,
  seeds: number[],
  options: { width: number; variants?: readonly SampleVariant[] },
): Promise<string[]> {
  const { width, variants = SAMPLE_VARIANTS } = options;
  const columns = seeds.length * variants.length;
  return Promise.all(
    [...models].map(([size, m]) =>
      sampleGrid(sampleVariants(m, seeds, { variants, captionPrefix: `${size}×${size} ` }), { width, columns }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Entropy

const ordinal = (n: number) => {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th");
  return `${n}${suffix}`;
};

/** A heatmap of the model's entropy map (bits, mean over RGBA), every step-th pixel, rows top to bottom. */
export function entropyHeatmap(model: PixelModel, step = 2): ChartArgs {
  const every = step === 1 ? "every pixel" : `every ${ordinal(step)} pixel`;
  return [
    [
      {
        type: "heatmap",
        z: mapRows(entropyMap(model), model.width, step),
        colorscale: "Viridis",
        colorbar: { title: { text: "bits" } },
      },
    ],
    {
      title: `entropy per pixel (mean over RGBA), ${every}`,
      height: 560,
      width: 560,
      layout: { yaxis: { autorange: "reversed", scaleanchor: "x" } },
    },
  ];
}

/** Of a per-pixel entropy map: the share of pixels with H = 0 and with H > 1 bit, and the mean H in bits. */
export function entropySummary(map: Float32Array): { zeroShare: number; overOneBitShare: number; mean: number } {
  return {
    zeroShare: map.filter((h) => h === 0).length / map.length,
    overOneBitShare: map.filter((h) => h > 1).length / map.length,
    mean: map.reduce((a, b) => a + b, 0) / map.length,
  };
}

/** entropySummary of each model's entropy map, one row per model, labelled by its size. */
export function entropyTable(models: PixelModel[]): TableArgs {
  return [
    ["size", "share of pixels with H = 0", "share with H > 1 bit", "mean H (bits)"],
    models.map((m) => {
      const s = entropySummary(entropyMap(m));
      return [`${m.width}×${m.height}`, s.zeroShare, s.overOneBitShare, s.mean];
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Log-likelihood

/** The model fitted on every image of the set but the k-th (to score that one as a new avatar). */
export function heldOutModel(set: AvatarSet, k: number): PixelModel {
  if (!(k >= 0 && k < set.images.length))
    throw new Error(`heldOutModel: no image ${k} in a set of ${set.images.length}`);
  return fitPixelModel({
    ...set,
    images: set.images.filter((_, i) => i !== k),
    files: set.files.filter((_, i) => i !== k),
  });
}

export interface LikelihoodRow {
  /** "training, in-sample", "training, held out" or "sample, <variant>" */
  group: string;
  /** the avatar's name or "seed <seed>" */
  name: string;
  bitsPerPixel: number;
}

/**
 * Bits per pixel under the model (add-α smoothing): each training avatar in-sample (model) and held out (the model
 * fitted on the others), then each sample.
 */
export function likelihoodRows(
  set: AvatarSet,
  model: PixelModel,
  samples: LabelledSample[],
  alpha: number,
): LikelihoodRow[] {
  const bits = (m: PixelModel, im: RgbaImage) => logLikelihood(m, im, { alpha }).bitsPerPixel;
  return [
    ...set.images.flatMap((im, k) => [
      { group: "training, in-sample", name: avatarName(set.files[k]), bitsPerPixel: bits(model, im) },
      { group: "training, held out", name: avatarName(set.files[k]), bitsPerPixel: bits(heldOutModel(set, k), im) },
    ]),
    ...samples.map((s) => ({
      group: `sample, ${s.label}`,
      name: `seed ${s.seed}`,
      bitsPerPixel: bits(model, s.image),
    })),
  ];
}

/** The rows' groups in order of first appearance, each with its bits per pixel. */
function byGroup(rows: LikelihoodRow[]): [string, number[]][] {
  const groups = [...new Set(rows.map((r) => r.group))];
  return groups.map((g) => [g, rows.filter((r) => r.group === g).map((r) => r.bitsPerPixel)]);
}

/** One box per group with every point shown. */
export function likelihoodBoxChart(rows: LikelihoodRow[], alpha: number): ChartArgs {
  return [
    byGroup(rows).map(([g, y]) => ({ type: "box", name: g, y, boxpoints: "all" })),
    { title: `bits per pixel under the model (α = ${alpha})`, yTitle: "bits / pixel", layout: { showlegend: false } },
  ];
}

/** The mean bits per pixel and the number of avatars per group. */
export function likelihoodTable(rows: LikelihoodRow[]): TableArgs {
  return [
    ["group", "mean bits/pixel", "n"],
    byGroup(rows).map(([g, v]) => [g, v.reduce((a, b) => a + b, 0) / v.length, v.length]),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Memorisation

export interface MemorisationCheck {
  /** Each sample with its nearest training avatar. */
  samples: { sample: LabelledSample; nearest: Nearest }[];
  /** Each training avatar (by name) with its nearest other training avatar: the reference distances. */
  training: { name: string; nearest: Nearest }[];
}

/** Nearest training avatar of every sample (nearestTraining) and of every training avatar (trainingNearest). */
export function memorisationCheck(model: PixelModel, samples: LabelledSample[]): MemorisationCheck {
  const near = nearestTraining(
    model,
    samples.map((s) => s.image),
  );
  return {
    samples: samples.map((sample, i) => ({ sample, nearest: near[i] })),
    training: trainingNearest(model).map((nearest, k) => ({ name: avatarName(model.files[k]), nearest })),
  };
}

/** Each sample, its nearest training avatar and the distance (mean |Δ| per channel value). */
export function nearestTable(check: MemorisationCheck): TableArgs {
  return [
    ["sample", "nearest training avatar", "distance"],
    check.samples.map(({ sample, nearest }) => [sample.caption, nearest.file, nearest.distance]),
  ];
}

/** Bars of the sample → nearest training distances beside the training → nearest other training ones. */
export function nearestChart(check: MemorisationCheck): ChartArgs {
  return [
    [
      {
        type: "bar",
        name: "sample → nearest training",
        x: check.samples.map(({ sample }) => `${sample.label} ${sample.seed}`),
        y: check.samples.map(({ nearest }) => nearest.distance),
      },
      {
        type: "bar",
        name: "training → nearest other training",
        x: check.training.map((t) => t.name),
        y: check.training.map((t) => t.nearest.distance),
      },
    ],
    { title: "nearest-neighbour distance (mean |Δ| per channel value)", yTitle: "mean |Δ|" },
  ];
}

/** Per variant (in order of appearance), the distance between its first two samples. */
export function variantPairTable(samples: LabelledSample[]): TableArgs {
  const labels = [...new Set(samples.map((s) => s.label))];
  return [
    ["variant", "distance between its first two samples"],
    labels.map((label) => {
      const [a, b] = samples.filter((s) => s.label === label);
      if (!b) throw new Error(`variantPairTable: variant "${label}" has only one sample (give at least two seeds)`);
      return [label, meanAbsDiff(a.image.data, b.image.data)];
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Rendered course styles

/**
 * Styles drawn with DiceBear (renderStyle) in a captioned grid: style i is seeded `${seed}-${i}`, shown at
 * `width` pixels, captioned with formatStyle.
 */
export async function styleAvatarGrid(
  styles: Style[],
  options: GridOptions & { size: RenderOptions["size"]; seed: number | string },
): Promise<string> {
  const cells = await Promise.all(
    styles.map(async (style, i) => ({
      html: image(await renderStyle(style, { size: options.size, seed: `${options.seed}-${i}` }), {
        width: options.width,
      }),
      caption: formatStyle(style),
    })),
  );
  return imageGrid(cells, { columns: options.columns });
}

/**
 * A training set of rendered styles: each style rendered (renderStyles) into a temporary folder, read back with
 * loadAvatars and fitted; the folder is removed afterwards.
 */
export async function fitRenderedStyles(
  styles: Style[],
  options: RenderOptions,
): Promise<{ set: AvatarSet; model: PixelModel }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rendered-styles-"));
  try {
    await renderStyles(styles, dir, options);
    const set = await loadAvatars(dir);
    return { set, model: fitPixelModel(set) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** "rendered set: 20 images, share of pixels with H = 0: 0.497, mean H 0.928 bits". */
export function renderedSetSummary(model: PixelModel): string {
  const s = entropySummary(entropyMap(model));
  return (
    `rendered set: ${model.images.length} images, share of pixels with H = 0: ${s.zeroShare.toFixed(3)}, ` +
    `mean H ${s.mean.toFixed(3)} bits`
  );
}
