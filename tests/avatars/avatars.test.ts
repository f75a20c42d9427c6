import { test } from "node:test";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import {
  CHANNELS,
  entropyMap,
  fitPixelModel,
  loadAvatars,
  logLikelihood,
  mapRows,
  mulberry32,
  nearestTraining,
  readRgba,
  sampleAvatar,
  trainingNearest,
  writeAvatarPng,
  writeGeneratedAvatars,
  type AvatarSet,
  type PixelModel,
  type RgbaImage,
  type Sampler,
} from "../../lib/avatars/avatars";
import { resolveData } from "../../lib/common/paths";
import { courseData } from "../helpers/data";
import {
  AVATAAARS_OPTIONS,
  avataaarsOptions,
  cycleStyles,
  renderStyle,
  renderStyles,
} from "../../lib/avatars/avatar-render";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "avatars-test-"));

const rgba = (width: number, height: number, pixels: number[][]): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from(pixels.flat()),
});

/** A model straight from in-memory images (no files). */
const modelOf = (images: RgbaImage[]): PixelModel =>
  fitPixelModel({
    width: images[0].width,
    height: images[0].height,
    files: images.map((_, i) => `img${i}.png`),
    images,
    notes: [],
  } as AvatarSet);

async function writePng(file: string, image: RgbaImage): Promise<void> {
  await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .png()
    .toFile(file);
}

/** A folder of `count` random 6×5 RGBA PNGs (some pixels transparent), deterministic. */
async function randomFolder(count: number, seed = 1): Promise<string> {
  const dir = tmp();
  const rand = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    const data = Uint8Array.from({ length: 6 * 5 * 4 }, (_, j) =>
      j % 4 === 3 && rand() < 0.3 ? 0 : Math.floor(rand() * 256),
    );
    await writePng(path.join(dir, `a${i}.png`), { width: 6, height: 5, data });
  }
  return dir;
}

const SAMPLERS: { sampler: Sampler; wholePixel: boolean }[] = [
  { sampler: "weighted", wholePixel: false },
  { sampler: "uniform", wholePixel: false },
  { sampler: "weighted", wholePixel: true },
  { sampler: "uniform", wholePixel: true },
];

test("loadAvatars: shapes, name order, and the size option", async () => {
  const dir = await randomFolder(3);
  fs.writeFileSync(path.join(dir, ".DS_Store"), "hidden files are skipped");
  const set = await loadAvatars(dir);
  assert.equal(set.images.length, 3);
  assert.deepEqual(
    set.files.map((f) => path.basename(f)),
    ["a0.png", "a1.png", "a2.png"],
  );
  assert.equal(set.width, 6);
  assert.equal(set.height, 5);
  for (const im of set.images) assert.equal(im.data.length, 6 * 5 * 4);
  const small = await loadAvatars(dir, { width: 3, height: 2 });
  assert.equal(small.width, 3);
  for (const im of small.images) assert.deepEqual([im.width, im.height, im.data.length], [3, 2, 3 * 2 * 4]);
  assert.equal(small.notes.length, 3);
});

test("loadAvatars: grey and RGB are reconciled to RGBA, other sizes brought to the first image's", async () => {
  const dir = tmp();
  await writePng(
    path.join(dir, "1-rgba.png"),
    rgba(2, 2, [
      [1, 2, 3, 0],
      [4, 5, 6, 128],
      [7, 8, 9, 255],
      [10, 11, 12, 255],
    ]),
  );
  await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 50, g: 60, b: 70 } } })
    .png()
    .toFile(path.join(dir, "2-rgb.png"));
  await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .toColourspace("b-w")
    .png()
    .toFile(path.join(dir, "3-grey.png"));
  await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 5, g: 5, b: 5, alpha: 1 } } })
    .png()
    .toFile(path.join(dir, "4-big.png"));
  const set = await loadAvatars(dir);
  assert.deepEqual(Array.from(set.images[0].data), [1, 2, 3, 0, 4, 5, 6, 128, 7, 8, 9, 255, 10, 11, 12, 255]);
  assert.deepEqual(Array.from(set.images[1].data.subarray(0, 4)), [50, 60, 70, 255]);
  assert.deepEqual(Array.from(set.images[2].data.subarray(0, 4)), [90, 90, 90, 255]);
  assert.deepEqual([set.images[3].width, set.images[3].height], [2, 2]);
  assert.match(set.notes.join("\n"), /2-rgb\.png: .*opaque alpha added/);
  assert.match(set.notes.join("\n"), /3-grey\.png: .*grey → RGB/);
  assert.match(set.notes.join("\n"), /4-big\.png: .*4×4 → 2×2/);
});

test("loadAvatars: clear errors for a missing folder, an empty folder and a non-image file", async () => {
  const missing = path.join(tmp(), "nope");
  await assert.rejects(
    loadAvatars(missing),
    (e: Error) => e.message.includes(missing) && /does not exist/.test(e.message),
  );
  const empty = tmp();
  await assert.rejects(loadAvatars(empty), (e: Error) => e.message.includes(empty) && /no images/.test(e.message));
  const dir = await randomFolder(2);
  const bad = path.join(dir, "b-broken.png");
  fs.writeFileSync(bad, "this is not a PNG");
  await assert.rejects(
    loadAvatars(dir),
    (e: Error) => e.message.includes(bad) && /not a readable image/.test(e.message),
  );
  const file = path.join(dir, "a0.png");
  await assert.rejects(loadAvatars(file), /is not a folder/);
  await assert.rejects(loadAvatars(dir, { width: 4 }), /both width and height/);
});

test("fitPixelModel: distinct values and counts per pixel-channel, size mismatch is an error", () => {
  const m = modelOf([rgba(1, 1, [[10, 20, 30, 255]]), rgba(1, 1, [[10, 40, 30, 0]]), rgba(1, 1, [[10, 20, 31, 0]])]);
  const at = (j: number) => ({
    values: Array.from(m.values.subarray(m.offsets[j], m.offsets[j + 1])),
    counts: Array.from(m.counts.subarray(m.offsets[j], m.offsets[j + 1])),
  });
  assert.deepEqual(at(0), { values: [10], counts: [3] });
  assert.deepEqual(at(1), { values: [20, 40], counts: [2, 1] });
  assert.deepEqual(at(2), { values: [30, 31], counts: [2, 1] });
  assert.deepEqual(at(3), { values: [0, 255], counts: [2, 1] });
  assert.throws(
    () =>
      modelOf([
        rgba(1, 1, [[1, 2, 3, 4]]),
        rgba(2, 1, [
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ]),
      ]),
    /img1\.png is 2×1, expected 1×1/,
  );
});

test("samplers: right shape, reproducible by seed, different seeds differ", async () => {
  const model = fitPixelModel(await loadAvatars(await randomFolder(4)));
  for (const o of SAMPLERS) {
    const a = sampleAvatar(model, { ...o, seed: 7 });
    assert.deepEqual([a.width, a.height, a.data.length], [6, 5, 6 * 5 * 4]);
    assert.deepEqual(sampleAvatar(model, { ...o, seed: 7 }).data, a.data, `${o.sampler}/${o.wholePixel}: same seed`);
    assert.notDeepEqual(
      sampleAvatar(model, { ...o, seed: 8 }).data,
      a.data,
      `${o.sampler}/${o.wholePixel}: other seed`,
    );
  }
  assert.throws(() => sampleAvatar(model, { sampler: "mle" as Sampler }), /unknown sampler "mle"/);
});

const EVERY_VALUE_OBSERVED =
  "samplers: every sampled value was observed at its pixel-channel; whole-pixel samples are real pixels";
test(EVERY_VALUE_OBSERVED, async () => {
  const set = await loadAvatars(await randomFolder(5, 3));
  const model = fitPixelModel(set);
  for (const o of SAMPLERS) {
    for (let seed = 1; seed <= 5; seed++) {
      const s = sampleAvatar(model, { ...o, seed }).data;
      for (let j = 0; j < s.length; j++)
        assert.ok(
          set.images.some((im) => im.data[j] === s[j]),
          `${o.sampler}: value ${s[j]} at ${j} never observed`,
        );
      if (o.wholePixel)
        for (let j = 0; j < s.length; j += CHANNELS)
          assert.ok(
            set.images.some((im) => [0, 1, 2, 3].every((c) => im.data[j + c] === s[j + c])),
            `${o.sampler} whole-pixel: pixel ${j / 4} is not any training image's pixel`,
          );
    }
  }
});

test("samplers: weighted follows frequencies, uniform ignores them (values 0,0,0,0,255)", () => {
  // 5 images of 10×10; every pixel-channel of image 4 is 255, of the others 0: weighted gives 255 with p = 1/5,
  // uniform with p = 1/2 (two distinct values). 200 seeds × 400 draws.
  const images = [0, 0, 0, 0, 255].map((v) => ({ width: 10, height: 10, data: new Uint8Array(10 * 10 * 4).fill(v) }));
  const model = modelOf(images);
  const share = (o: { sampler: Sampler; wholePixel: boolean }) => {
    let hits = 0;
    let total = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const d = sampleAvatar(model, { ...o, seed }).data;
      for (const v of d) hits += v === 255 ? 1 : 0;
      total += d.length;
    }
    return hits / total;
  };
  for (const o of SAMPLERS) {
    const p = share(o);
    const [lo, hi] = o.sampler === "weighted" ? [0.17, 0.23] : [0.46, 0.54];
    assert.ok(
      p > lo && p < hi,
      `${o.sampler} wholePixel=${o.wholePixel}: share of 255 is ${p}, expected in (${lo}, ${hi})`,
    );
  }
});

test("logLikelihood: hand-computed with add-α smoothing", () => {
  const model = modelOf([rgba(1, 1, [[10, 20, 30, 255]]), rgba(1, 1, [[10, 40, 30, 0]])]);
  const x = rgba(1, 1, [[10, 20, 99, 255]]);
  // counts of x's values: R 2, G 1, B 0, A 1; n = 2
  const laplace = Math.log(3) + Math.log(2) + Math.log(1) + Math.log(2) - 4 * Math.log(2 + 256);
  const r1 = logLikelihood(model, x, { alpha: 1 });
  assert.ok(Math.abs(r1.logLik - laplace) < 1e-9, `${r1.logLik} vs ${laplace}`);
  assert.ok(Math.abs(r1.bitsPerPixel - -laplace / Math.LN2) < 1e-9);
  const small = Math.log(2.01) + Math.log(1.01) + Math.log(0.01) + Math.log(1.01) - 4 * Math.log(2 + 2.56);
  assert.ok(Math.abs(logLikelihood(model, x).logLik - small) < 1e-9, "default alpha 0.01");
  assert.throws(
    () =>
      logLikelihood(
        model,
        rgba(2, 1, [
          [0, 0, 0, 0],
          [0, 0, 0, 0],
        ]),
      ),
    /image is 2×1, the model 1×1/,
  );
  assert.throws(() => logLikelihood(model, x, { alpha: 0 }), /alpha must be > 0/);
});

test("entropyMap: bits per pixel-channel, mean or sum over channels", () => {
  // pixel 0: R same, G two values 1:1 (1 bit), B same, A two values 1:1 (1 bit); pixel 1: all the same.
  const model = modelOf([
    rgba(2, 1, [
      [10, 20, 30, 255],
      [1, 1, 1, 1],
    ]),
    rgba(2, 1, [
      [10, 40, 30, 0],
      [1, 1, 1, 1],
    ]),
  ]);
  const mean = entropyMap(model);
  assert.ok(mean instanceof Float32Array);
  assert.deepEqual(Array.from(mean), [0.5, 0]);
  assert.deepEqual(Array.from(entropyMap(model, { reduce: "sum" })), [2, 0]);
  // 3 of 4 images agree: H = −(¾ log2 ¾ + ¼ log2 ¼) ≈ 0.811 in one channel
  const m3 = modelOf([0, 0, 0, 9].map((v) => rgba(1, 1, [[v, 0, 0, 0]])));
  assert.ok(Math.abs(entropyMap(m3, { reduce: "sum" })[0] - 0.8112781244591328) < 1e-6);
  assert.deepEqual(mapRows(Float32Array.from([1, 2, 3, 4, 5, 6]), 3), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(mapRows(Float32Array.from([1, 2, 3, 4, 5, 6]), 3, 2), [[1, 3]]);
  assert.throws(() => mapRows(Float32Array.from([1, 2, 3]), 2), /do not make rows of 2/);
});

test("nearestTraining and trainingNearest: index and mean absolute difference", () => {
  const a = rgba(1, 1, [[10, 20, 30, 255]]);
  const b = rgba(1, 1, [[10, 40, 30, 0]]);
  const c = rgba(1, 1, [[12, 40, 30, 0]]);
  const model = modelOf([a, b, c]);
  const [na, nx] = nearestTraining(model, [a, rgba(1, 1, [[10, 40, 31, 4]])]);
  assert.deepEqual(na, { index: 0, file: "img0.png", distance: 0 });
  assert.equal(nx.index, 1);
  assert.equal(nx.distance, (0 + 0 + 1 + 4) / 4);
  const ref = trainingNearest(model);
  assert.deepEqual(
    ref.map((r) => r.index),
    [1, 2, 1],
  );
  assert.deepEqual(
    ref.map((r) => r.distance),
    [(20 + 255) / 4, 2 / 4, 2 / 4],
  );
});

test("writeAvatarPng: transparency survives the PNG round trip", async () => {
  const dir = tmp();
  const file = path.join(dir, "sub", "x.png");
  const image = rgba(2, 1, [
    [200, 100, 50, 0],
    [1, 2, 3, 128],
  ]);
  await writeAvatarPng(image, file);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["x.png"], "no temporary file left behind");
  const back = (await readRgba(file)).image;
  assert.equal(back.data[3], 0, "transparent pixel keeps alpha 0");
  assert.deepEqual(Array.from(back.data), Array.from(image.data));
});

test("writeGeneratedAvatars and the script entry: names carry sampler and seed, files regenerate", async () => {
  const data = await randomFolder(3);
  const model = fitPixelModel(await loadAvatars(data));
  const out = tmp();
  const files = await writeGeneratedAvatars(model, out, { count: 2, seed: 4, sampler: "uniform", wholePixel: true });
  assert.deepEqual(
    files.map((f) => path.basename(f)),
    ["uniform-pixel-seed-4.png", "uniform-pixel-seed-5.png"],
  );
  const cli = tmp();
  const written = runCli(["--data", data, "--out", cli, "--count", "2", "--seed", "4"]);
  assert.deepEqual(
    written.map((f) => path.basename(f)),
    ["weighted-seed-4.png", "weighted-seed-5.png"],
  );
  assert.deepEqual((await readRgba(written[1])).image.data, sampleAvatar(model, { seed: 5 }).data);
  const small = runCli(["--data", data, "--out", cli, "--count", "1", "--size", "3x2"]);
  assert.equal(path.basename(small[0]), "weighted-seed-1-3x2.png");
  assert.equal((await readRgba(small[0])).image.width, 3);
  assert.throws(
    () => runCli(["--data", data, "--out", cli, "--size", "big"]),
    /exit 2[\s\S]*--size "big": must look like WIDTHxHEIGHT/,
  );
  assert.throws(
    () => runCli(["--data", data, "--out", cli, "--count", "two"]),
    /exit 2[\s\S]*--count "two": must be a whole number/,
  );
});

/** The avatars command line (scripts/avatars.ts): the files it printed, or an error with its exit code and stderr. */
function runCli(args: string[]): string[] {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "..", "..", "scripts", "avatars.ts"), ...args],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

const STYLE = {
  прическа: "короткая прямые",
  "цвет волос": "черный",
  аксесуар: "круглые очки",
  одежда: "худи",
  "цвет одежды": "синий",
};

test(
  "avataaarsOptions: every course option maps to names avataaars knows; unknown ones are errors",
  { skip: courseData("styles").skip },
  async () => {
    const { schema } = await import("@dicebear/avataaars");
    const props = schema.properties as Record<string, { items?: { enum?: string[]; pattern?: string } }>;
    const courseOptions: Record<string, { option: string }[]> = JSON.parse(
      fs.readFileSync(resolveData("styles"), "utf8"),
    );
    for (const [category, options] of Object.entries(courseOptions))
      for (const { option } of options) {
        const mapped = avataaarsOptions({ [category]: option });
        for (const [key, value] of Object.entries(mapped)) {
          if (!Array.isArray(value)) continue;
          const items = props[key]?.items;
          assert.ok(items, `${category}/${option}: avataaars has no option ${key}`);
          for (const v of value)
            assert.ok(
              items.enum ? items.enum.includes(v) : new RegExp(items.pattern!).test(v),
              `${category}/${option}: ${key}=${v} not valid`,
            );
        }
      }
    assert.equal(Object.keys(AVATAAARS_OPTIONS).length, Object.keys(courseOptions).length);
    assert.deepEqual(avataaarsOptions({ аксесуар: "нет очков" }).accessoriesProbability, 0);
    assert.throws(() => avataaarsOptions({ шляпа: "да" }), /unknown category "шляпа"/);
    assert.throws(() => avataaarsOptions({ одежда: "фрак" }), /unknown option "фрак" for category "одежда"/);
  },
);

test("renderStyle: an RGBA PNG of the asked size, transparent corners, reproducible by seed", async () => {
  const png = await renderStyle(STYLE, { size: 64, seed: 1 });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [64, 64, 4]);
  const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
  assert.deepEqual([alphaAt(0, 0), alphaAt(63, 0)], [0, 0], "top corners transparent");
  assert.ok(
    data.some((v, i) => i % 4 === 3 && v === 255),
    "something is drawn",
  );
  assert.deepEqual(await renderStyle(STYLE, { size: 64, seed: 1 }), png);
  const tall = await sharp(await renderStyle(STYLE, { size: { width: 33, height: 35 } })).metadata();
  assert.deepEqual([tall.width, tall.height, tall.channels], [33, 35, 4]);
  await assert.rejects(renderStyle(STYLE, { size: 0 }), /size must be positive/);
});

test("renderStyles: a folder of rendered styles is a training folder for the pixel model", async () => {
  const dir = path.join(tmp(), "rendered");
  const styles = cycleStyles(8);
  assert.equal(new Set(styles.map((s) => s.прическа)).size, 7, "cycleStyles covers every hairstyle");
  const written = await renderStyles(styles.slice(0, 3), dir, { size: { width: 22, height: 24 }, seed: 5 });
  assert.deepEqual(
    written.map((w) => path.basename(w.file)),
    ["style-000.png", "style-001.png", "style-002.png"],
  );
  const model = fitPixelModel(await loadAvatars(dir));
  assert.deepEqual([model.width, model.height, model.images.length], [22, 24, 3]);
});
