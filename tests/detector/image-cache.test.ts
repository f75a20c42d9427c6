import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { cacheKey, defaultCacheDir, loadCached, type CacheOptions } from "../../lib/detector/image-cache";
import { decodeImagePixels, loadBatchTensorData, type ImageSize, type WellItem } from "../../lib/detector/wells";

// ---- fixtures: a few tiny JPEGs, a fresh cache folder, a decoder that counts its calls ----------------------

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-cache-test-"));
  made.push(dir);
  return dir;
}

/** A small noisy JPEG (noise, so that resizing and reordering mistakes show up in the pixels). */
async function writeJpeg(file: string, seed: number, width = 48, height = 27): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919 + seed * 104729) % 251;
  fs.writeFileSync(
    file,
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg()
      .toBuffer(),
  );
}

function itemOf(file: string, label: 0 | 1 = 0): WellItem {
  return { file, label, hash: crypto.createHash("sha1").update(fs.readFileSync(file)).digest("hex") };
}

async function fixture(count = 5): Promise<{ dir: string; items: WellItem[] }> {
  const dir = tmpDir();
  const items: WellItem[] = [];
  for (let n = 0; n < count; n++) {
    const file = path.join(dir, `img${n}.jpg`);
    await writeJpeg(file, n, 43 + n * 3, 24 + n * 4);
    items.push(itemOf(file, (n % 2) as 0 | 1));
  }
  return { dir, items };
}

/** Options with a fresh cache folder, a decode counter and collected warnings. */
function counting(cacheDir = tmpDir()) {
  const state = { decodes: 0, warnings: [] as string[] };
  const options: CacheOptions = {
    cacheDir,
    decode: (file, size) => {
      state.decodes++;
      return decodeImagePixels(file, size);
    },
    warn: (m) => state.warnings.push(m),
  };
  return { state, options };
}

const SIZE: ImageSize = { height: 8, width: 12, channels: 3 };

// ---- tests ----------------------------------------------------------------------------------------------------

test("miss decodes and writes; hit returns identical data without decoding", async () => {
  const { items } = await fixture();
  const { state, options } = counting();
  const first = await loadCached(items, SIZE, options);
  assert.equal(first.fromCache, false);
  assert.equal(state.decodes, items.length);
  assert.ok(fs.existsSync(first.cacheFile));
  assert.equal(fs.statSync(first.cacheFile).size, items.length * 8 * 12 * 3);
  const header = JSON.parse(fs.readFileSync(first.cacheFile.replace(/\.u8$/, ".json"), "utf8"));
  assert.equal(header.count, items.length);

  const second = await loadCached(items, SIZE, options);
  assert.equal(second.fromCache, true);
  assert.equal(state.decodes, items.length, "a cache hit decoded again");
  assert.deepEqual(second.data, first.data);
  assert.deepEqual(second.labels, first.labels);
  assert.deepEqual(second.shape, [items.length, 8, 12, 3]);
  assert.deepEqual(state.warnings, []);

  // the same floats as decoding directly
  const direct = await loadBatchTensorData(items, SIZE);
  assert.deepEqual(second.data, direct.data);
  assert.deepEqual(second.files, direct.files);
});

test("the key ignores order and repeats; results follow the caller's order", async () => {
  const { items } = await fixture();
  const { state, options } = counting();
  const forward = await loadCached(items, SIZE, options);
  const shuffled = [items[3], items[0], items[4], items[0], items[2], items[1]];
  assert.equal(cacheKey(shuffled, SIZE), cacheKey(items, SIZE));
  const back = await loadCached(shuffled, SIZE, options);
  assert.equal(back.fromCache, true);
  assert.equal(state.decodes, items.length);
  const per = 8 * 12 * 3;
  const row = (d: Float32Array, i: number) => d.subarray(i * per, (i + 1) * per);
  shuffled.forEach((it, i) => assert.deepEqual(row(back.data, i), row(forward.data, items.indexOf(it))));
  assert.deepEqual(
    [...back.labels],
    shuffled.map((s) => s.label),
  );
  assert.deepEqual(back.shape, [6, 8, 12, 3]);
});

test("a change of size, channels or fit is a miss", async () => {
  const { items } = await fixture();
  const { state, options } = counting();
  await loadCached(items, SIZE, options);
  const variants: ImageSize[] = [
    { ...SIZE, height: 16 },
    { ...SIZE, channels: 1 },
    { ...SIZE, fit: "cover" },
  ];
  for (const size of variants) {
    const before = state.decodes;
    const out = await loadCached(items, size, options);
    assert.equal(out.fromCache, false, JSON.stringify(size));
    assert.equal(state.decodes - before, items.length);
    assert.equal(out.data.length, items.length * size.height * size.width * size.channels);
  }
  assert.notEqual(cacheKey(items, SIZE), cacheKey(items, { ...SIZE, fit: "fill", width: 13 }));
  assert.equal(cacheKey(items, SIZE), cacheKey(items, { ...SIZE, fit: "fill" }), "fill is the default");
});

test("a changed file is a miss and gives the new pixels", async () => {
  const { items } = await fixture();
  const { state, options } = counting();
  const old = await loadCached(items, SIZE, options);
  await writeJpeg(items[2].file, 99);
  const changed = items.map((it) => itemOf(it.file, it.label));
  const fresh = await loadCached(changed, SIZE, options);
  assert.equal(fresh.fromCache, false);
  assert.equal(state.decodes, 2 * items.length);
  assert.notDeepEqual(fresh.data, old.data);
  assert.deepEqual(fresh.data, (await loadBatchTensorData(changed, SIZE)).data);
});

test("a truncated, corrupted or header-less entry is rebuilt with a warning, never returned", async () => {
  const { items } = await fixture();
  const { state, options } = counting();
  const good = await loadCached(items, SIZE, options);
  const dataFile = good.cacheFile;
  const headerFile = dataFile.replace(/\.u8$/, ".json");
  const damage: [string, () => void, RegExp][] = [
    ["truncated", () => fs.truncateSync(dataFile, 100), /100 bytes, expected 1440 \(truncated\?\)/],
    [
      "flipped byte",
      () => {
        const b = fs.readFileSync(dataFile);
        b[7] ^= 0xff;
        fs.writeFileSync(dataFile, b);
      },
      /checksum/,
    ],
    ["bad header", () => fs.writeFileSync(headerFile, "{ not json"), /not valid JSON/],
    ["no header", () => fs.rmSync(headerFile), /header .* is missing/],
    [
      "wrong header",
      () => {
        const h = JSON.parse(fs.readFileSync(headerFile, "utf8"));
        h.byteLength = 12;
        fs.writeFileSync(headerFile, JSON.stringify(h));
      },
      /says 12 bytes/,
    ],
  ];
  for (const [name, breakIt, message] of damage) {
    breakIt();
    const before = state.decodes;
    const warningsBefore = state.warnings.length;
    const out = await loadCached(items, SIZE, options);
    assert.equal(out.fromCache, false, name);
    assert.equal(state.decodes - before, items.length, `${name}: not decoded again`);
    assert.deepEqual(out.data, good.data, `${name}: rebuilt data differs`);
    assert.equal(state.warnings.length, warningsBefore + 1, `${name}: no warning`);
    assert.match(state.warnings.at(-1)!, message);
    // and the rebuilt entry is a clean hit again
    const again = await loadCached(items, SIZE, options);
    assert.equal(again.fromCache, true, `${name}: not rebuilt`);
  }
});

test("cache folder: option, then IMAGE_CACHE_DIR, then <projectRoot>/.cache/images", async () => {
  assert.equal(defaultCacheDir({ IMAGE_CACHE_DIR: "/tmp/somewhere" }), "/tmp/somewhere");
  assert.match(defaultCacheDir({}), /\.cache[\\/]images$/);
  const { items } = await fixture(2);
  const dir = path.join(tmpDir(), "nested", "cache");
  const out = await loadCached(items, SIZE, { cacheDir: dir });
  assert.equal(path.dirname(out.cacheFile), dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), [`${cacheKey(items, SIZE)}.json`, `${cacheKey(items, SIZE)}.u8`]);
});

test("a corrupt image on a miss is an error naming it, and nothing is cached", async () => {
  const { items } = await fixture(3);
  fs.writeFileSync(items[1].file, "not a jpeg");
  const broken = items.map((it) => itemOf(it.file));
  const { options } = counting();
  await assert.rejects(loadCached(broken, SIZE, options), (e: Error) =>
    e.message.includes(`cannot decode image ${items[1].file}`),
  );
  assert.deepEqual(fs.readdirSync(options.cacheDir!), []);
});
