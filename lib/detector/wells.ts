/**
 * The casting-table wells dataset ("лунки"): list the images, split them without leaking duplicates, decode them.
 *
 * Two folder layouts are recognised automatically:
 *   course   train/*.jpg (normal), proliv/*.jpg (spill), test/imgs/*.jpg + test/test_annotation.txt (`<file> <0|1>`)
 *   folders  train/ne_proliv/*.jpg (normal), proliv/*.jpg (spill), test/ne_proliv/*.jpg, test/proliv/*.jpg
 *   one-class  any other one-class image folder: train/*.{jpg,png} or train/good/* (normal, MVTec style); optional
 *            proliv/ (known anomalies for validation); optional test/ — images directly inside are an unlabelled
 *            pool, subfolders are classes (good/, ne_proliv/ or normal/ = 0, any other = 1)
 * Every item carries the SHA-1 of its bytes: the course's train/ holds byte-identical copies, and a held-out
 * image whose twin stays in training would make validation look better than it is.
 *
 * Decoding resizes with sharp's fit "fill" by default: the crops are 43–57 × 24–40 px with varied aspect ratios,
 * and stretching keeps every pixel of the well (no crop, no padding band the autoencoder would learn as content).
 * Grayscale (channels 1) is libvips' b-w conversion (perceptual lightness: pure red ≈ 0.5), not Rec.601 luma.
 *
 *   import { listWells, splitWells, loadBatchTensorData } from "../dist/lib/detector";
 *   const list = listWells(resolveData("wells"));
 *   const { train, validation } = splitWells(list, { holdoutFraction: 0.1, seed: 1 });
 *   const batch = await loadBatchTensorData(train, { height: 32, width: 48, channels: 3 });
 *   // batch.shape = [N, 32, 48, 3]
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { mulberry32, shuffleInPlace } from "../common/random";

export type Label = 0 | 1;
export type Layout = "course" | "folders" | "one-class";

export interface WellItem {
  /** Absolute path of the image. */
  file: string;
  /** 0 = normal well, 1 = spill. */
  label: Label;
  /** SHA-1 of the file's bytes (hex). */
  hash: string;
}

export interface WellList {
  root: string;
  layout: Layout;
  /** Normal wells for training (label 0). */
  train: WellItem[];
  /** Spill images meant for choosing the threshold (label 1). */
  spill: WellItem[];
  /**
   * Labelled test images (an unlabelled pool in the one-class layout when `testLabelled` is false; labels then
   * read 0).
   */
  test: WellItem[];
  /** False when test/ holds images without labels (one-class layout): they can serve as a pool, never as a test. */
  testLabelled: boolean;
}

const NORMAL_CLASS = /^(good|ne_proliv|normal|ok)$/i;

const IMAGE_FILE = /^[^.].*\.(jpe?g|png)$/i;

const sha1 = (bytes: Uint8Array) => crypto.createHash("sha1").update(bytes).digest("hex");

function item(file: string, label: Label): WellItem {
  return { file, label, hash: sha1(fs.readFileSync(file)) };
}

function requireDir(dir: string, what: string): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`wells: missing folder ${dir} (${what})`);
}

/** A symlink is followed to a file; a broken link or a loop (ELOOP) is skipped. */
function linksToFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Image files directly inside a folder, sorted by name, as absolute paths. */
function imagesIn(dir: string, what: string): string[] {
  requireDir(dir, what);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter(
      (e) => IMAGE_FILE.test(e.name) && (e.isFile() || (e.isSymbolicLink() && linksToFile(path.join(dir, e.name)))),
    )
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** Which layout a dataset folder uses, or an error saying what each layout expects. */
export function detectLayout(root: string): Layout {
  const has = (...parts: string[]) => fs.existsSync(path.join(root, ...parts));
  if (!fs.existsSync(root)) throw new Error(`wells: dataset folder ${root} does not exist`);
  if (has("test", "test_annotation.txt") || has("test", "imgs")) return "course";
  if (has("train", "ne_proliv") || has("test", "ne_proliv") || has("test", "proliv")) return "folders";
  if (has("train") && fs.statSync(path.join(root, "train")).isDirectory()) return "one-class";
  throw new Error(
    `wells: ${root} has neither known layout. Expected either\n` +
      `  course:  train/, proliv/, test/imgs/, test/test_annotation.txt\n` +
      `  folders: train/ne_proliv/, proliv/, test/ne_proliv/, test/proliv/\n` +
      `  one-class: train/ (or train/good/) with images; proliv/ and test/ optional`,
  );
}

/** Parse `<file> <label>` lines (CRLF or LF, blank lines skipped); `source` names the file in errors. */
export function parseAnnotation(text: string, source: string): { name: string; label: Label; line: number }[] {
  const rows: { name: string; label: Label; line: number }[] = [];
  const seen = new Set<string>();
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const where = `${source}:${i + 1}`;
      // The label is the last token; the name is everything before it (so a name with spaces still parses).
      const m = /^\s*(\S.*?)\s+(\S+)\s*$/.exec(line);
      if (!m)
        throw new Error(`wells: malformed annotation line ${where}: ${JSON.stringify(line)} (expected "<file> <0|1>")`);
      const [, name, label] = m;
      if (label !== "0" && label !== "1")
        throw new Error(
          `wells: label ${JSON.stringify(label)} at ${where} for ${name} (expected 0 = normal or 1 = spill)`,
        );
      if (seen.has(name)) throw new Error(`wells: ${name} is annotated twice (second time at ${where})`);
      seen.add(name);
      rows.push({ name, label: label === "1" ? 1 : 0, line: i + 1 });
    });
  return rows;
}

/**
 * Every image of the dataset with its label and content hash. Throws a clear error for a missing folder,
 * an annotation problem, or an empty class (no training images, no spill images, no test normals or spills).
 */
export function listWells(root: string): WellList {
  root = path.resolve(root);
  const layout = detectLayout(root);
  if (layout === "one-class") return listOneClass(root);
  const trainDir = layout === "course" ? path.join(root, "train") : path.join(root, "train", "ne_proliv");
  const train = imagesIn(trainDir, "normal training images").map((f) => item(f, 0));
  const spill = imagesIn(path.join(root, "proliv"), "spill images for the threshold").map((f) => item(f, 1));

  let test: WellItem[];
  if (layout === "course") {
    const imgs = path.join(root, "test", "imgs");
    const annotation = path.join(root, "test", "test_annotation.txt");
    requireDir(imgs, "test images");
    if (!fs.existsSync(annotation)) throw new Error(`wells: missing annotation file ${annotation}`);
    test = parseAnnotation(fs.readFileSync(annotation, "utf8"), annotation).map(({ name, label, line }) => {
      const file = path.join(imgs, name);
      if (!fs.existsSync(file)) {
        const fields = name.split(/\s+/).length + 1;
        if (fields > 2)
          throw new Error(
            `wells: ${annotation}:${line} has ${fields} fields (${JSON.stringify(`${name} ${label}`)}); ` +
              `expected "<file> <0|1>" and no file ${file} exists`,
          );
        throw new Error(`wells: ${annotation}:${line} lists ${name}, but ${file} does not exist`);
      }
      return item(file, label);
    });
  } else {
    test = [
      ...imagesIn(path.join(root, "test", "ne_proliv"), "normal test images").map((f) => item(f, 0)),
      ...imagesIn(path.join(root, "test", "proliv"), "spill test images").map((f) => item(f, 1)),
    ];
  }

  if (train.length === 0) throw new Error(`wells: no training images in ${trainDir}`);
  if (spill.length === 0) throw new Error(`wells: no spill images in ${path.join(root, "proliv")}`);
  for (const label of [0, 1] as const)
    if (!test.some((t) => t.label === label))
      throw new Error(
        `wells: the test set of ${root} has no ${label === 1 ? "spill (label 1)" : "normal (label 0)"} images`,
      );
  return { root, layout, train, spill, test, testLabelled: true };
}

/** How many items have a hash that occurs in `reference`. */
/** The one-class layout (see the module comment): only train/ is required, and it must hold images. */
function listOneClass(root: string): WellList {
  const good = path.join(root, "train", "good");
  const trainDir = fs.existsSync(good) && fs.statSync(good).isDirectory() ? good : path.join(root, "train");
  const train = imagesIn(trainDir, "normal training images").map((f) => item(f, 0));
  if (train.length === 0) throw new Error(`wells: no training images in ${trainDir} (.jpg, .jpeg or .png)`);
  const prolivDir = path.join(root, "proliv");
  const spill = fs.existsSync(prolivDir) ? imagesIn(prolivDir, "known anomalies").map((f) => item(f, 1)) : [];
  const testDir = path.join(root, "test");
  let test: WellItem[] = [];
  let testLabelled = false;
  if (fs.existsSync(testDir)) {
    const classes = fs
      .readdirSync(testDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    if (classes.length > 0) {
      testLabelled = true;
      for (const c of classes)
        test.push(
          ...imagesIn(path.join(testDir, c), `test class ${c}`).map((f) => item(f, NORMAL_CLASS.test(c) ? 0 : 1)),
        );
    } else test = imagesIn(testDir, "unlabelled pool images").map((f) => item(f, 0));
  }
  return { root, layout: "one-class", train, spill, test, testLabelled };
}

function countInSet(items: WellItem[], reference: WellItem[]): number {
  const hashes = new Set(reference.map((r) => r.hash));
  return items.filter((i) => hashes.has(i.hash)).length;
}

export interface WellsSummary {
  train: number;
  trainUnique: number;
  /** Training images that repeat an earlier one byte for byte (train - trainUnique). */
  trainDuplicates: number;
  spill: number;
  spillUnique: number;
  /** proliv/ images byte-identical to some training (normal) image. */
  spillInTrain: number;
  testNormal: number;
  testSpill: number;
  testUnique: number;
  /** Test images byte-identical to some training image (a number to report, nothing else). */
  testInTrain: number;
  /** Test images byte-identical to some proliv/ image. */
  testInSpill: number;
}

/** Counts for a README or a notebook table. Test labels are only counted here, never used. */
export function summarizeWells(list: WellList): WellsSummary {
  const distinct = (items: WellItem[]) => new Set(items.map((t) => t.hash)).size;
  const trainUnique = distinct(list.train);
  return {
    train: list.train.length,
    trainUnique,
    trainDuplicates: list.train.length - trainUnique,
    spill: list.spill.length,
    spillUnique: distinct(list.spill),
    spillInTrain: countInSet(list.spill, list.train),
    testNormal: list.test.filter((t) => t.label === 0).length,
    testSpill: list.test.filter((t) => t.label === 1).length,
    testUnique: distinct(list.test),
    testInTrain: countInSet(list.test, list.train),
    testInSpill: countInSet(list.test, list.spill),
  };
}

export interface SplitOptions {
  /** Share of the distinct normal images held out for validation (default 0.1). */
  holdoutFraction?: number;
  /** Seed of the shuffle (default 1). */
  seed?: number;
}

export interface WellSplit {
  /** Normal images to fit the autoencoder on (duplicates among them are kept as shipped). */
  train: WellItem[];
  /** Held-out normals (one copy per distinct image) followed by every proliv/ spill image. */
  validation: WellItem[];
  /** Distinct normal images held out. */
  heldOut: number;
  /** Extra copies of held-out images: removed from training and not repeated in validation. */
  duplicatesDropped: number;
  /** Test images byte-identical to an image in this split's `train` (reported, not acted on). */
  testInTrain: number;
}

/**
 * Hold out a seeded share of the distinct normal images. The shuffle runs over sorted unique hashes, so the
 * split depends only on the content and the seed, and every copy of a held-out image leaves the training set.
 */
export function splitWells(list: WellList, options: SplitOptions = {}): WellSplit {
  const { holdoutFraction = 0.1, seed = 1 } = options;
  if (!(holdoutFraction >= 0 && holdoutFraction < 1))
    throw new Error(`splitWells: holdoutFraction must be in [0, 1), got ${holdoutFraction}`);
  const unique = [...new Set(list.train.map((t) => t.hash))].sort();
  const count = Math.round(unique.length * holdoutFraction);
  shuffleInPlace(unique, mulberry32(seed));
  const heldOutHashes = new Set(unique.slice(0, count));

  const train: WellItem[] = [];
  const heldOut: WellItem[] = [];
  const taken = new Set<string>();
  let duplicatesDropped = 0;
  for (const t of list.train) {
    if (!heldOutHashes.has(t.hash)) train.push(t);
    else if (taken.has(t.hash)) duplicatesDropped++;
    else {
      taken.add(t.hash);
      heldOut.push(t);
    }
  }
  return {
    train,
    validation: [...heldOut, ...list.spill],
    heldOut: heldOut.length,
    duplicatesDropped,
    testInTrain: countInSet(list.test, train),
  };
}

export type Fit = "fill" | "cover" | "contain";

export interface ImageSize {
  height: number;
  width: number;
  channels: 1 | 3;
  /** How a crop meets the target aspect ratio (default "fill": stretch, see the module note). */
  fit?: Fit;
}

function checkSize(size: ImageSize): void {
  const { height, width, channels, fit = "fill" } = size;
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0))
    throw new Error(`image size: height and width must be positive integers, got ${height}×${width}`);
  if (channels !== 1 && channels !== 3) throw new Error(`image size: channels must be 1 or 3, got ${channels}`);
  if (!["fill", "cover", "contain"].includes(fit))
    throw new Error(`image size: fit must be fill, cover or contain, got ${fit}`);
}

/**
 * Decode one image to bytes, resized to height×width, HWC, 0–255; grayscale when channels = 1.
 * sharp fails on JPEG warnings (its default failOn), so a truncated file is an error, never a black image.
 */
export async function decodeImagePixels(file: string, size: ImageSize): Promise<Uint8Array> {
  checkSize(size);
  const { height, width, channels, fit = "fill" } = size;
  let image = sharp(file)
    .resize(width, height, { fit, background: { r: 0, g: 0, b: 0 } })
    .removeAlpha();
  image = channels === 1 ? image.grayscale() : image.toColourspace("srgb");
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`cannot decode image ${file}: ${(e as Error).message}`);
  }
  const { info, data } = out;
  if (info.width !== width || info.height !== height || info.channels !== channels)
    throw new Error(
      `decoding ${file} gave ${info.height}×${info.width}×${info.channels}, expected ${height}×${width}×${channels}`,
    );
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Bytes 0–255 to floats in [0, 1]. */
export function pixelsToFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/** Decode one image to a Float32Array (HWC, values in [0, 1]). */
export async function decodeImage(file: string, size: ImageSize): Promise<Float32Array> {
  return pixelsToFloat(await decodeImagePixels(file, size));
}

export type PixelDecoder = (file: string, size: ImageSize) => Promise<Uint8Array>;

export interface DecodeOptions {
  /** Images decoded at once (default 8); sharp decodes off the main thread, so a few in flight keep it busy. */
  concurrency?: number;
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Replaces the sharp decoder (tests count calls with it). */
  decode?: PixelDecoder;
}

/** Decode many files into one byte array (N×H×W×C, in the order given), at most `concurrency` at a time. */
export async function decodePixelsBatch(
  files: string[],
  size: ImageSize,
  options: DecodeOptions = {},
): Promise<Uint8Array> {
  checkSize(size);
  const { concurrency = 8, onProgress, decode = decodeImagePixels } = options;
  if (!(Number.isInteger(concurrency) && concurrency > 0))
    throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  const per = size.height * size.width * size.channels;
  const out = new Uint8Array(files.length * per);
  // A tiny worker pool instead of a dependency: each worker takes the next index until none are left.
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const pixels = await decode(files[i], size);
      if (pixels.length !== per) throw new Error(`decoding ${files[i]} gave ${pixels.length} values, expected ${per}`);
      out.set(pixels, i * per);
      onProgress?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return out;
}

export interface TensorData {
  /** N×H×W×C floats in [0, 1], ready for `tf.tensor4d(data, shape)`. */
  data: Float32Array;
  labels: Uint8Array;
  files: string[];
  shape: [number, number, number, number];
}

/** Decode items into one tensor-shaped Float32Array with their labels and paths, in the order given. */
export async function loadBatchTensorData(
  items: WellItem[],
  size: ImageSize,
  options: DecodeOptions = {},
): Promise<TensorData> {
  const files = items.map((i) => i.file);
  const pixels = await decodePixelsBatch(files, size, options);
  return tensorData(items, size, pixels);
}

/** Assemble a TensorData from items and their decoded bytes (shared with the image cache). */
export function tensorData(items: WellItem[], size: ImageSize, pixels: Uint8Array): TensorData {
  return {
    data: pixelsToFloat(pixels),
    labels: Uint8Array.from(items, (i) => i.label),
    files: items.map((i) => i.file),
    shape: [items.length, size.height, size.width, size.channels],
  };
}

/**
 * How many of the images are grey (one channel, or two with alpha) and how many colour, from their headers
 * (no decode): `npm run train` prints it, since grey crops are expanded to the model's channels (or colour ones
 * converted to grey) without a word otherwise.
 *   await countChannels(list.train)   // { grey: 0, colour: 10000 }
 */
export async function countChannels(items: WellItem[], concurrency = 64): Promise<{ grey: number; colour: number }> {
  let grey = 0,
    colour = 0;
  for (let i = 0; i < items.length; i += concurrency) {
    const metas = await Promise.all(items.slice(i, i + concurrency).map((it) => sharp(it.file).metadata()));
    for (const m of metas) m.channels !== undefined && m.channels <= 2 ? grey++ : colour++;
  }
  return { grey, colour };
}
