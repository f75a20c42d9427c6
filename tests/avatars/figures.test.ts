import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { renderStyle } from "../../lib/avatars/avatar-render";
import {
  entropyMap,
  fitPixelModel,
  logLikelihood,
  mapRows,
  meanAbsDiff,
  sampleAvatar,
  writeAvatarPng,
  type AvatarSet,
  type RgbaImage,
} from "../../lib/avatars/avatars";
import {
  SAMPLE_VARIANTS,
  avatarGrid,
  avatarName,
  checkCommittedAvatars,
  describeAvatarSet,
  describePixelModel,
  entropyHeatmap,
  entropySummary,
  entropyTable,
  fitRenderedStyles,
  fitResizedModels,
  heldOutModel,
  likelihoodBoxChart,
  likelihoodRows,
  likelihoodTable,
  memorisationCheck,
  nearestChart,
  nearestTable,
  renderedSetSummary,
  resizedSampleGrids,
  sampleGrid,
  sampleVariants,
  styleAvatarGrid,
  trainingGrid,
  variantPairTable,
} from "../../lib/avatars/figures";
import { formatStyle } from "../../lib/styles/styles";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "avatar-figures-test-"));

const rgba = (width: number, height: number, pixels: number[][]): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from(pixels.flat()),
});
const setOf = (images: RgbaImage[], files = images.map((_, i) => `/data/img${i}.png`)): AvatarSet => ({
  width: images[0].width,
  height: images[0].height,
  files,
  images,
  notes: [],
});

// Two opaque 4×2 avatars that differ only in the red channel of the top-left pixel (0 vs 255): that pixel-channel
// has 1 bit of entropy, so the pixel 1/4 bit (mean over RGBA) and every other pixel 0.
const GREY = [90, 90, 90, 255];
const A = rgba(4, 2, [[0, 90, 90, 255], ...Array(7).fill(GREY)]);
const B = rgba(4, 2, [[255, 90, 90, 255], ...Array(7).fill(GREY)]);
const SET = setOf([A, B]);
const MODEL = fitPixelModel(SET);

/** The images of an HTML grid: each data-URL PNG decoded to RGBA bytes, with its width attribute and style. */
async function gridImages(html: string): Promise<{ data: Uint8Array; width: string; pixelated: boolean }[]> {
  const tags = [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"([^>]*)>/g)];
  return Promise.all(
    tags.map(async ([, b64, attributes]) => ({
      data: new Uint8Array(await sharp(Buffer.from(b64, "base64")).raw().toBuffer()),
      width: /width="(\d+)"/.exec(attributes)?.[1] ?? "",
      pixelated: attributes.includes("image-rendering:pixelated"),
    })),
  );
}
const captions = (html: string) => [...html.matchAll(/<figcaption[^>]*>([^<]*)<\/figcaption>/g)].map((m) => m[1]);

test("avatarName, describeAvatarSet, describePixelModel: the names and one-line summaries", () => {
  assert.equal(avatarName("/data/avatars/000.png"), "000");
  assert.equal(avatarName("photo.jpg"), "photo.jpg");
  assert.equal(describeAvatarSet(SET), "2 images 4×2; notes: none");
  assert.equal(
    describeAvatarSet({ ...SET, notes: ["a.png: grey → RGB", "b.png: opaque alpha added"] }),
    "2 images 4×2; notes: a.png: grey → RGB; b.png: opaque alpha added",
  );
  // 32 pixel-channels, one with two distinct values: 33 / 32
  assert.equal(describePixelModel(MODEL), "model arrays 0.0 MB; 1.03 distinct values per pixel-channel on average");
  // 4 black 256×256 images: 1 MB of images, 0.25 MB of values, 1 MB of counts, 1 MB + 4 bytes of offsets
  const black = rgba(256, 256, Array(256 * 256).fill([0, 0, 0, 255]));
  const big = fitPixelModel(setOf([black, black, black, black]));
  assert.equal(describePixelModel(big), "model arrays 3.3 MB; 1.00 distinct values per pixel-channel on average");
});

test("avatarGrid and trainingGrid: inline PNGs of the images, captions, pixelated only when enlarged", async () => {
  const html = await avatarGrid(
    [
      { image: A, caption: "first <a>" },
      { image: B, caption: "second" },
    ],
    { width: 8, columns: 3 },
  );
  const images = await gridImages(html);
  assert.deepEqual(
    images.map((i) => i.data),
    [A.data, B.data],
  );
  assert.deepEqual(
    images.map((i) => [i.width, i.pixelated]),
    [
      ["8", true],
      ["8", true],
    ],
  );
  assert.deepEqual(captions(html), ["first &lt;a&gt;", "second"]);
  assert.match(html, /grid-template-columns:repeat\(3,auto\)/);
  const notEnlarged = await gridImages(await avatarGrid([{ image: A }], { width: 4, columns: 1 }));
  assert.equal(notEnlarged[0].pixelated, false);

  const all = await trainingGrid(SET, { width: 4, columns: 6 });
  assert.deepEqual(captions(all), ["img0", "img1"]);
  const first = await trainingGrid(SET, { width: 4, columns: 6, limit: 1, captions: false });
  assert.deepEqual(captions(first), []);
  assert.deepEqual(
    (await gridImages(first)).map((i) => i.data),
    [A.data],
  );
});

test("sampleVariants and sampleGrid: every variant × seed, variant by variant, sampled and captioned", async () => {
  assert.deepEqual(
    SAMPLE_VARIANTS.map((v) => [v.label, v.sampler, v.wholePixel]),
    [
      ["weighted", "weighted", false],
      ["uniform", "uniform", false],
      ["whole pixel", "weighted", true],
    ],
  );
  const samples = sampleVariants(MODEL, [1, 2]);
  assert.deepEqual(
    samples.map((s) => s.caption),
    [
      "weighted, seed 1",
      "weighted, seed 2",
      "uniform, seed 1",
      "uniform, seed 2",
      "whole pixel, seed 1",
      "whole pixel, seed 2",
    ],
  );
  for (const s of samples)
    assert.deepEqual(s.image, sampleAvatar(MODEL, { sampler: s.sampler, wholePixel: s.wholePixel, seed: s.seed }));
  const one = sampleVariants(MODEL, [3], { variants: [SAMPLE_VARIANTS[1]], captionPrefix: "4×2 " });
  assert.deepEqual(
    one.map((s) => [s.label, s.seed, s.caption]),
    [["uniform", 3, "4×2 uniform, seed 3"]],
  );
  const html = await sampleGrid(samples, { width: 8, columns: 2 });
  assert.deepEqual(
    captions(html),
    samples.map((s) => s.caption),
  );
  assert.deepEqual(
    (await gridImages(html)).map((i) => i.data),
    samples.map((s) => s.image.data),
  );
});

test("checkCommittedAvatars: identical or DIFFERS per committed seed; seeds without a file are skipped", async () => {
  const dir = tmp();
  await writeAvatarPng(sampleAvatar(MODEL, { seed: 1 }), path.join(dir, "weighted-seed-1.png"));
  const other = sampleAvatar(MODEL, { seed: 2 });
  other.data[0] = other.data[0] === 0 ? 255 : 0; // not what seed 2 gives
  await writeAvatarPng(other, path.join(dir, "weighted-seed-2.png"));
  assert.deepEqual(await checkCommittedAvatars(MODEL, [1, 2, 3], dir), [
    `${path.join(dir, "weighted-seed-1.png")}: identical to sampleAvatar(model, { seed: 1 })`,
    `${path.join(dir, "weighted-seed-2.png")}: DIFFERS from sampleAvatar(model, { seed: 2 })`,
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("fitResizedModels and resizedSampleGrids: one model per size, one grid per model", async () => {
  const dir = tmp();
  for (const [i, im] of [A, B, A].entries()) await writeAvatarPng(im, path.join(dir, `a${i}.png`));
  const models = await fitResizedModels([2, 1], dir);
  assert.deepEqual(
    [...models].map(([size, m]) => [size, m.width, m.height, m.images.length]),
    [
      [2, 2, 2, 3],
      [1, 1, 1, 3],
    ],
  );
  const grids = await resizedSampleGrids(models, [1, 2], { width: 16 });
  assert.equal(grids.length, 2);
  assert.deepEqual(captions(grids[1]).slice(0, 3), [
    "1×1 weighted, seed 1",
    "1×1 weighted, seed 2",
    "1×1 uniform, seed 1",
  ]);
  assert.equal(captions(grids[0]).length, 6);
  assert.match(grids[0], /repeat\(6,auto\)/);
  const images = await gridImages(grids[0]);
  assert.deepEqual(images[0].data, sampleAvatar(models.get(2)!, { seed: 1 }).data);
  assert.ok(images.every((i) => i.pixelated));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("entropyHeatmap, entropySummary, entropyTable: the map, its shares and mean", () => {
  const [traces, options] = entropyHeatmap(MODEL, 1);
  assert.deepEqual(traces[0].z, [
    [0.25, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  assert.equal(options.title, "entropy per pixel (mean over RGBA), every pixel");
  const [coarse, coarseOptions] = entropyHeatmap(MODEL);
  assert.deepEqual(coarse[0].z, mapRows(entropyMap(MODEL), 4, 2));
  assert.deepEqual(coarse[0].z, [[0.25, 0]]);
  assert.equal(coarseOptions.title, "entropy per pixel (mean over RGBA), every 2nd pixel");
  assert.equal(entropyHeatmap(MODEL, 3)[1].title, "entropy per pixel (mean over RGBA), every 3rd pixel");
  assert.equal(entropyHeatmap(MODEL, 12)[1].title, "entropy per pixel (mean over RGBA), every 12th pixel");

  assert.deepEqual(entropySummary(Float32Array.from([0, 0, 0.5, 1, 2])), {
    zeroShare: 0.4,
    overOneBitShare: 0.2, // exactly 1 bit is not more than 1 bit
    mean: 0.7,
  });
  const [columns, rows] = entropyTable([MODEL, fitPixelModel(setOf([A, A]))]);
  assert.deepEqual(columns, ["size", "share of pixels with H = 0", "share with H > 1 bit", "mean H (bits)"]);
  assert.deepEqual(rows, [
    ["4×2", 7 / 8, 0, 0.25 / 8],
    ["4×2", 1, 0, 0],
  ]);
});

test("heldOutModel and the log-likelihood rows, box chart and table", () => {
  const C = rgba(4, 2, Array(8).fill([10, 20, 30, 255]));
  const set = setOf([A, B, C]);
  const model = fitPixelModel(set);
  const held = heldOutModel(set, 1);
  assert.deepEqual(held.images, [A.data, C.data]);
  assert.deepEqual(held.files, ["/data/img0.png", "/data/img2.png"]);
  assert.throws(() => heldOutModel(set, 3), /no image 3/);

  const samples = sampleVariants(model, [1], { variants: SAMPLE_VARIANTS.slice(0, 2) });
  const rows = likelihoodRows(set, model, samples, 0.5);
  const bits = (m: typeof model, im: RgbaImage) => logLikelihood(m, im, { alpha: 0.5 }).bitsPerPixel;
  assert.deepEqual(rows.slice(0, 4), [
    { group: "training, in-sample", name: "img0", bitsPerPixel: bits(model, A) },
    { group: "training, held out", name: "img0", bitsPerPixel: bits(heldOutModel(set, 0), A) },
    { group: "training, in-sample", name: "img1", bitsPerPixel: bits(model, B) },
    { group: "training, held out", name: "img1", bitsPerPixel: bits(heldOutModel(set, 1), B) },
  ]);
  assert.deepEqual(rows.slice(6), [
    { group: "sample, weighted", name: "seed 1", bitsPerPixel: bits(model, samples[0].image) },
    { group: "sample, uniform", name: "seed 1", bitsPerPixel: bits(model, samples[1].image) },
  ]);
  // C held out: its R, G, B never occur in A and B, (0 + α) / (2 + 256α) each; its alpha 255 is in both, (2 + α) / …
  const d = 2 + 256 * 0.5;
  assert.ok(Math.abs(rows[5].bitsPerPixel + 3 * Math.log2(0.5 / d) + Math.log2(2.5 / d)) < 1e-9);

  const [traces, options] = likelihoodBoxChart(rows, 0.5);
  assert.deepEqual(
    traces.map((t) => [t.type, t.name, t.boxpoints, (t.y as number[]).length]),
    [
      ["box", "training, in-sample", "all", 3],
      ["box", "training, held out", "all", 3],
      ["box", "sample, weighted", "all", 1],
      ["box", "sample, uniform", "all", 1],
    ],
  );
  assert.deepEqual(traces[1].y, [rows[1].bitsPerPixel, rows[3].bitsPerPixel, rows[5].bitsPerPixel]);
  assert.equal(options.title, "bits per pixel under the model (α = 0.5)");

  const fixed = [
    { group: "g", name: "a", bitsPerPixel: 1 },
    { group: "h", name: "b", bitsPerPixel: 5 },
    { group: "g", name: "c", bitsPerPixel: 2 },
  ];
  assert.deepEqual(likelihoodTable(fixed), [
    ["group", "mean bits/pixel", "n"],
    [
      ["g", 1.5, 2],
      ["h", 5, 1],
    ],
  ]);
});

test("memorisationCheck, nearestTable, nearestChart, variantPairTable: nearest training avatars and pairs", () => {
  const C = rgba(4, 2, Array(8).fill([10, 20, 30, 255]));
  const model = fitPixelModel(setOf([A, B, C]));
  const samples = sampleVariants(model, [1, 2], { variants: SAMPLE_VARIANTS.slice(0, 1) });
  samples[0].image = B; // a copy of img1
  const check = memorisationCheck(model, samples);
  assert.equal(check.samples[0].nearest.file, "img1.png");
  assert.equal(check.samples[0].nearest.distance, 0);
  // A and B differ in one channel value of 32 by 255; C is far from both
  assert.deepEqual(
    check.training.map((t) => [t.name, t.nearest.file, t.nearest.distance]),
    [
      ["img0", "img1.png", 255 / 32],
      ["img1", "img0.png", 255 / 32],
      ["img2", "img0.png", meanAbsDiff(C.data, A.data)],
    ],
  );
  const [columns, rows] = nearestTable(check);
  assert.deepEqual(columns, ["sample", "nearest training avatar", "distance"]);
  assert.deepEqual(rows[0], ["weighted, seed 1", "img1.png", 0]);
  assert.equal(rows.length, 2);
  const [traces] = nearestChart(check);
  assert.deepEqual(traces[0].x, ["weighted 1", "weighted 2"]);
  assert.deepEqual(traces[0].y, [0, check.samples[1].nearest.distance]);
  assert.deepEqual(traces[1].x, ["img0", "img1", "img2"]);
  assert.deepEqual(traces[1].y, [255 / 32, 255 / 32, meanAbsDiff(C.data, A.data)]);

  const pairs = sampleVariants(model, [1, 2, 3]);
  assert.deepEqual(variantPairTable(pairs), [
    ["variant", "distance between its first two samples"],
    SAMPLE_VARIANTS.map((v) => {
      const [a, b] = pairs.filter((s) => s.label === v.label);
      return [v.label, meanAbsDiff(a.image.data, b.image.data)];
    }),
  ]);
  samples[1].image = A;
  assert.deepEqual(variantPairTable(samples)[1], [["weighted", 255 / 32]]);
  assert.throws(() => variantPairTable(sampleVariants(model, [1])), /only one sample/);
});

const STYLES = [
  {
    прическа: "короткая прямые",
    "цвет волос": "черный",
    аксесуар: "круглые очки",
    одежда: "худи",
    "цвет одежды": "синий",
  },
  { прическа: "нет волос", "цвет волос": null, аксесуар: "нет очков", одежда: "комбинезон", "цвет одежды": "белый" },
  { прическа: "длинные прямые", "цвет волос": "рыжий", аксесуар: "нет очков", одежда: "худи", "цвет одежды": "черный" },
];
const SIZE = { width: 22, height: 24 };

test('styleAvatarGrid: style i rendered with seed "<seed>-<i>", captioned with formatStyle', async () => {
  const html = await styleAvatarGrid(STYLES.slice(0, 2), { size: SIZE, seed: 5, width: 44, columns: 6 });
  assert.deepEqual(captions(html), STYLES.slice(0, 2).map(formatStyle));
  const images = await gridImages(html);
  const expected = await Promise.all(
    STYLES.slice(0, 2).map(async (s, i) =>
      sharp(await renderStyle(s, { size: SIZE, seed: `5-${i}` }))
        .raw()
        .toBuffer(),
    ),
  );
  assert.deepEqual(
    images.map((i) => Buffer.from(i.data)),
    expected,
  );
  assert.deepEqual(
    images.map((i) => [i.width, i.pixelated]),
    [
      ["44", false],
      ["44", false],
    ],
  );
});

test("fitRenderedStyles and renderedSetSummary: rendered styles as a training set, the folder removed", async () => {
  const { set, model } = await fitRenderedStyles(STYLES, { size: SIZE, seed: 5 });
  assert.deepEqual([set.images.length, set.width, set.height, model.width, model.height], [3, 22, 24, 22, 24]);
  assert.deepEqual(
    set.files.map((f) => path.basename(f)),
    ["style-000.png", "style-001.png", "style-002.png"],
  );
  assert.equal(fs.existsSync(path.dirname(set.files[0])), false, "the temporary folder is removed");
  const first = await sharp(await renderStyle(STYLES[0], { size: SIZE, seed: "5-0" }))
    .raw()
    .toBuffer();
  assert.deepEqual(Buffer.from(set.images[0].data), first);

  // the fixture: 1/8 of the pixels with 1/4 bit, the rest 0
  assert.equal(
    renderedSetSummary(MODEL),
    "rendered set: 2 images, share of pixels with H = 0: 0.875, mean H 0.031 bits",
  );
  const s = entropySummary(entropyMap(model));
  assert.equal(
    renderedSetSummary(model),
    `rendered set: 3 images, share of pixels with H = 0: ${s.zeroShare.toFixed(3)}, mean H ${s.mean.toFixed(3)} bits`,
  );
});
