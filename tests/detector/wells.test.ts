import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { resolveData } from "../../lib/common/paths";
import {
  decodeImage,
  decodeImagePixels,
  detectLayout,
  listWells,
  loadBatchTensorData,
  parseAnnotation,
  splitWells,
  summarizeWells,
  type WellList,
} from "../../lib/detector/wells";

// ---- fixtures: tiny solid-colour JPEGs of the crops' odd sizes, in both layouts -------------------------------

const SIZES: [number, number][] = [
  [48, 27],
  [43, 30],
  [57, 24],
  [50, 40],
];

/** A w×h JPEG of one colour; `n` picks a distinct colour (and size) so distinct n give distinct bytes. */
async function jpeg(n: number): Promise<Buffer> {
  const [width, height] = SIZES[n % SIZES.length];
  const background = { r: (n * 53) % 256, g: (n * 97 + 40) % 256, b: (n * 31 + 80) % 256 };
  return sharp({ create: { width, height, channels: 3, background } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wells-test-"));
  made.push(dir);
  return dir;
}

function put(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/**
 * Course layout: train/ 10 distinct images + 3 byte-identical copies, proliv/ 2, test/imgs/ 4 with a CRLF
 * annotation (2 normal, 2 spill); test n1 is a copy of train image 0, test s1 a copy of proliv image 0.
 */
async function courseFixture(): Promise<string> {
  const root = tmpDir();
  for (let n = 0; n < 10; n++) put(path.join(root, "train", `t${n}.jpg`), await jpeg(n));
  for (const [copy, of] of [
    ["dupA", 0],
    ["dupB", 0],
    ["dupC", 3],
  ] as const)
    put(path.join(root, "train", `${copy}.jpg`), await jpeg(of));
  put(path.join(root, "proliv", "p0.jpg"), await jpeg(100));
  put(path.join(root, "proliv", "p1.jpg"), await jpeg(101));
  put(path.join(root, "test", "imgs", "n0.jpg"), await jpeg(200));
  put(path.join(root, "test", "imgs", "n1.jpg"), await jpeg(0));
  put(path.join(root, "test", "imgs", "s0.jpg"), await jpeg(201));
  put(path.join(root, "test", "imgs", "s1.jpg"), await jpeg(100));
  put(path.join(root, "test", "test_annotation.txt"), "n0.jpg 0\r\ns0.jpg 1\r\nn1.jpg 0\r\ns1.jpg 1\r\n");
  return root;
}

async function foldersFixture(): Promise<string> {
  const root = tmpDir();
  for (let n = 0; n < 4; n++) put(path.join(root, "train", "ne_proliv", `t${n}.jpg`), await jpeg(n));
  put(path.join(root, "proliv", "p0.jpg"), await jpeg(100));
  put(path.join(root, "test", "ne_proliv", "n0.jpg"), await jpeg(200));
  put(path.join(root, "test", "proliv", "s0.jpg"), await jpeg(201));
  put(path.join(root, "test", "proliv", "s1.jpg"), await jpeg(202));
  put(path.join(root, "train", "ne_proliv", ".DS_Store"), "not an image");
  return root;
}

const annotationOf = (root: string) => path.join(root, "test", "test_annotation.txt");

// ---- listing -----------------------------------------------------------------------------------------------

test("course layout: detected, listed with labels, absolute paths and content hashes", async () => {
  const root = await courseFixture();
  assert.equal(detectLayout(root), "course");
  const list = listWells(root);
  assert.equal(list.layout, "course");
  assert.equal(list.train.length, 13);
  assert.equal(list.spill.length, 2);
  assert.deepEqual(
    list.test.map((t) => [path.basename(t.file), t.label]),
    [
      ["n0.jpg", 0],
      ["s0.jpg", 1],
      ["n1.jpg", 0],
      ["s1.jpg", 1],
    ],
  );
  for (const it of [...list.train, ...list.spill, ...list.test]) {
    assert.ok(path.isAbsolute(it.file));
    assert.equal(it.hash, crypto.createHash("sha1").update(fs.readFileSync(it.file)).digest("hex"));
  }
  assert.ok(list.train.every((t) => t.label === 0) && list.spill.every((t) => t.label === 1));
});

test("folders layout: detected, labels from the folder names, non-images ignored", async () => {
  const root = await foldersFixture();
  const list = listWells(root);
  assert.equal(list.layout, "folders");
  assert.equal(list.train.length, 4);
  assert.equal(list.spill.length, 1);
  assert.deepEqual(
    list.test.map((t) => [path.basename(t.file), t.label]),
    [
      ["n0.jpg", 0],
      ["s0.jpg", 1],
      ["s1.jpg", 1],
    ],
  );
});

test("summary counts duplicates and test images identical to train / proliv images", async () => {
  const root = await courseFixture();
  put(path.join(root, "proliv", "p2.jpg"), await jpeg(7)); // a "spill" that is a copy of a normal training image
  put(path.join(root, "proliv", "p3.jpg"), await jpeg(101));
  const s = summarizeWells(listWells(root));
  assert.deepEqual(s, {
    train: 13,
    trainUnique: 10,
    trainDuplicates: 3,
    spill: 4,
    spillUnique: 3,
    spillInTrain: 1,
    testNormal: 2,
    testSpill: 2,
    testUnique: 4,
    testInTrain: 1,
    testInSpill: 1,
  });
});

test("parseAnnotation: CRLF and LF, blank lines, names with spaces", () => {
  assert.deepEqual(parseAnnotation("a.jpg 0\r\nb c.jpg 1\r\n\r\n", "ann"), [
    { name: "a.jpg", label: 0, line: 1 },
    { name: "b c.jpg", label: 1, line: 2 },
  ]);
  assert.deepEqual(parseAnnotation("\uFEFFa.jpg\t1\n", "ann"), [{ name: "a.jpg", label: 1, line: 1 }]);
});

// ---- every error names what and where ----------------------------------------------------------------------

test("errors: neither layout, missing root", async () => {
  const empty = tmpDir();
  assert.throws(
    () => listWells(empty),
    (e: Error) => e.message.includes(empty) && /neither known layout/.test(e.message) && /ne_proliv/.test(e.message),
  );
  assert.throws(() => listWells(path.join(empty, "nope")), /does not exist/);
});

test("errors: missing folders in either layout name the folder", async () => {
  const course = await courseFixture();
  fs.rmSync(path.join(course, "proliv"), { recursive: true });
  assert.throws(
    () => listWells(course),
    (e: Error) => e.message.includes(`missing folder ${path.join(course, "proliv")}`),
  );

  const course2 = await courseFixture();
  fs.rmSync(path.join(course2, "test", "imgs"), { recursive: true });
  assert.throws(
    () => listWells(course2),
    (e: Error) => e.message.includes(path.join(course2, "test", "imgs")),
  );

  const folders = await foldersFixture();
  fs.rmSync(path.join(folders, "test", "proliv"), { recursive: true });
  assert.throws(
    () => listWells(folders),
    (e: Error) => e.message.includes(path.join(folders, "test", "proliv")),
  );
});

test("errors: annotation lists an absent file, a label 2, a malformed line", async () => {
  const root = await courseFixture();
  const ann = annotationOf(root);
  fs.writeFileSync(ann, "n0.jpg 0\r\ngone.jpg 1\r\n");
  assert.throws(
    () => listWells(root),
    (e: Error) => e.message.includes("gone.jpg") && e.message.includes(ann),
  );

  fs.writeFileSync(ann, "n0.jpg 0\r\ns0.jpg 2\r\n");
  assert.throws(
    () => listWells(root),
    (e: Error) => e.message.includes(`${ann}:2`) && /label "2"/.test(e.message),
  );

  fs.writeFileSync(ann, "n0.jpg 0\r\ns0.jpg\r\n");
  assert.throws(
    () => listWells(root),
    (e: Error) => e.message.includes(`malformed annotation line ${ann}:2`),
  );

  fs.writeFileSync(ann, "n0.jpg 0\r\nn0.jpg 1\r\n");
  assert.throws(() => listWells(root), /annotated twice/);

  fs.writeFileSync(ann, "n0.jpg 0\r\ns0.jpg 1 0\r\n");
  assert.throws(
    () => listWells(root),
    (e: Error) => e.message.includes(`${ann}:2 has 3 fields`),
  );
  fs.writeFileSync(ann, "n0.jpg 0\r\ngone.jpg 1\r\n");
  assert.throws(
    () => listWells(root),
    (e: Error) => e.message.includes(`${ann}:2 lists gone.jpg`),
  );
});

test("symlinked images are followed; broken links and link loops are skipped", async () => {
  const root = await courseFixture();
  const train = path.join(root, "train");
  const before = listWells(root).train.length;
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), "linked-"));
  fs.copyFileSync(
    path.join(train, fs.readdirSync(train).find((f) => f.endsWith(".jpg"))!),
    path.join(outside, "real.jpg"),
  );
  fs.symlinkSync(path.join(outside, "real.jpg"), path.join(train, "linked.jpg"));
  fs.symlinkSync(path.join(outside, "missing.jpg"), path.join(train, "broken.jpg"));
  fs.symlinkSync(path.join(train, "loop-b.jpg"), path.join(train, "loop-a.jpg"));
  fs.symlinkSync(path.join(train, "loop-a.jpg"), path.join(train, "loop-b.jpg"));
  const after = listWells(root).train;
  assert.equal(after.length, before + 1);
  assert.ok(after.some((t) => t.file.endsWith("linked.jpg")));
});

test("errors: an empty class (train, proliv, test normals, test spills)", async () => {
  const noTrain = await courseFixture();
  for (const f of fs.readdirSync(path.join(noTrain, "train"))) fs.rmSync(path.join(noTrain, "train", f));
  assert.throws(
    () => listWells(noTrain),
    (e: Error) => e.message.includes(`no training images in ${path.join(noTrain, "train")}`),
  );

  const noSpill = await courseFixture();
  for (const f of fs.readdirSync(path.join(noSpill, "proliv"))) fs.rmSync(path.join(noSpill, "proliv", f));
  assert.throws(() => listWells(noSpill), /no spill images in/);

  const noPositives = await courseFixture();
  fs.writeFileSync(annotationOf(noPositives), "n0.jpg 0\r\ns0.jpg 0\r\n");
  assert.throws(() => listWells(noPositives), /no spill \(label 1\) images/);

  const noNegatives = await foldersFixture();
  fs.rmSync(path.join(noNegatives, "test", "ne_proliv", "n0.jpg"));
  assert.throws(() => listWells(noNegatives), /no normal \(label 0\) images/);
});

// ---- split ---------------------------------------------------------------------------------------------------

function checkSplit(list: WellList, holdoutFraction: number, seed: number) {
  const split = splitWells(list, { holdoutFraction, seed });
  const normals = split.validation.filter((v) => v.label === 0);
  const trainHashes = new Set(split.train.map((t) => t.hash));
  const heldHashes = new Set(normals.map((v) => v.hash));
  assert.ok(
    normals.every((v) => !trainHashes.has(v.hash)),
    "a held-out image has a copy in training",
  );
  assert.equal(heldHashes.size, normals.length, "validation repeats an image");
  assert.equal(split.heldOut, normals.length);
  assert.equal(normals.length, Math.round(new Set(list.train.map((t) => t.hash)).size * holdoutFraction));
  // every training item is used once: kept for training, held out, or counted as a dropped duplicate
  assert.equal(split.train.length + split.heldOut + split.duplicatesDropped, list.train.length);
  assert.deepEqual(split.validation.slice(normals.length), list.spill);
  return split;
}

test("split: held-out normals share no content hash with training; copies are dropped and counted", async () => {
  const list = listWells(await courseFixture());
  const sets = new Set<string>();
  let sawDuplicateHeldOut = false;
  for (let seed = 1; seed <= 20; seed++) {
    const split = checkSplit(list, 0.3, seed);
    sets.add(split.validation.map((v) => v.file).join());
    if (split.duplicatesDropped > 0) sawDuplicateHeldOut = true;
  }
  assert.ok(sawDuplicateHeldOut, "no seed held out a duplicated image: the duplicate path went untested");
  assert.ok(sets.size > 1, "the seed does not change the split");
  // same seed, same split, whatever the listing order
  const a = splitWells(list, { seed: 7, holdoutFraction: 0.3 });
  const b = splitWells({ ...list, train: list.train.slice().reverse() }, { seed: 7, holdoutFraction: 0.3 });
  assert.deepEqual(new Set(a.validation.map((v) => v.hash)), new Set(b.validation.map((v) => v.hash)));
  assert.throws(() => splitWells(list, { holdoutFraction: 1 }), /holdoutFraction/);
});

test("split: reports test images identical to the remaining training images", async () => {
  const list = listWells(await courseFixture());
  for (let seed = 1; seed <= 10; seed++) {
    const split = splitWells(list, { holdoutFraction: 0.5, seed });
    const t0Held = split.validation.some((v) => v.hash === list.train[0].hash);
    assert.equal(split.testInTrain, t0Held ? 0 : 1);
  }
});

// ---- decoding ------------------------------------------------------------------------------------------------

test("decodeImage: HWC floats in [0, 1] at the requested size; grayscale with channels 1", async () => {
  const dir = tmpDir();
  const red = path.join(dir, "red.jpg");
  put(
    red,
    await sharp({ create: { width: 57, height: 24, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .jpeg({ quality: 100 })
      .toBuffer(),
  );
  const rgb = await decodeImage(red, { height: 32, width: 48, channels: 3 });
  assert.ok(rgb instanceof Float32Array);
  assert.equal(rgb.length, 32 * 48 * 3);
  assert.ok(rgb.every((v) => v >= 0 && v <= 1));
  assert.ok(Math.abs(rgb[0] - 1) < 0.03 && rgb[1] < 0.03 && rgb[2] < 0.03, `red pixel decoded as ${rgb.slice(0, 3)}`);
  const gray = await decodeImage(red, { height: 16, width: 24, channels: 1 });
  assert.equal(gray.length, 16 * 24);
  // libvips' grey is perceptual lightness (pure red ≈ 0.5), not Rec.601 luma; check a neutral grey and that red is
  // mid-grey
  assert.ok(gray[0] > 0.2 && gray[0] < 0.8, `red in grayscale is ${gray[0]}`);
  const grey = path.join(dir, "grey.jpg");
  put(
    grey,
    await sharp({ create: { width: 43, height: 30, channels: 3, background: { r: 100, g: 100, b: 100 } } })
      .jpeg({ quality: 100 })
      .toBuffer(),
  );
  const g = await decodeImage(grey, { height: 4, width: 4, channels: 1 });
  assert.ok(
    g.every((v) => Math.abs(v - 100 / 255) < 0.02),
    `grey 100 decoded as ${g[0] * 255}`,
  );
  for (const fit of ["cover", "contain"] as const)
    assert.equal((await decodeImagePixels(red, { height: 8, width: 8, channels: 3, fit })).length, 8 * 8 * 3);
  await assert.rejects(decodeImage(red, { height: 0, width: 8, channels: 3 }), /positive integers/);
});

test("decodeImage: corrupt or truncated JPEG bytes are an error naming the file, never zeros", async () => {
  const dir = tmpDir();
  const bytes = await jpeg(5);
  const truncated = path.join(dir, "truncated.jpg");
  put(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const garbage = path.join(dir, "garbage.jpg");
  put(garbage, "this is not a jpeg");
  for (const file of [truncated, garbage])
    await assert.rejects(decodeImage(file, { height: 8, width: 8, channels: 3 }), (e: Error) =>
      e.message.includes(`cannot decode image ${file}`),
    );
  await assert.rejects(decodeImage(path.join(dir, "absent.jpg"), { height: 8, width: 8, channels: 3 }), /absent\.jpg/);
});

test("loadBatchTensorData: N×H×W×C in item order, labels, progress, concurrency limit", async () => {
  const list = listWells(await courseFixture());
  const items = [...list.test, ...list.spill];
  const size = { height: 8, width: 12, channels: 3 } as const;
  const progress: [number, number][] = [];
  const batch = await loadBatchTensorData(items, size, { concurrency: 3, onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(batch.shape, [items.length, 8, 12, 3]);
  assert.equal(batch.data.length, items.length * 8 * 12 * 3);
  assert.deepEqual(
    [...batch.labels],
    items.map((i) => i.label),
  );
  assert.deepEqual(
    batch.files,
    items.map((i) => i.file),
  );
  assert.deepEqual(progress.at(-1), [items.length, items.length]);
  assert.equal(progress.length, items.length);
  const per = 8 * 12 * 3;
  for (const k of [0, 3, 5])
    assert.deepEqual(batch.data.subarray(k * per, (k + 1) * per), await decodeImage(items[k].file, size));

  let inFlight = 0;
  let most = 0;
  const slow = async () => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return new Uint8Array(per);
  };
  await loadBatchTensorData(list.train, size, { concurrency: 2, decode: slow });
  assert.equal(most, 2);
});

test("loadBatchTensorData: one corrupt image fails the whole batch, naming it", async () => {
  const root = await courseFixture();
  put(path.join(root, "train", "t4.jpg"), "broken");
  const list = listWells(root);
  await assert.rejects(
    loadBatchTensorData(list.train, { height: 8, width: 8, channels: 1 }),
    /cannot decode image .*t4\.jpg/,
  );
});

// ---- the real dataset, when it is there -----------------------------------------------------------------------

test("real wells dataset: course counts", (t) => {
  let root: string;
  try {
    root = resolveData("wells");
  } catch (e) {
    t.skip(`wells dataset not found: ${(e as Error).message.split("\n")[0]}`);
    return;
  }
  const list = listWells(root);
  const s = summarizeWells(list);
  assert.equal(list.layout, "course");
  assert.equal(s.train, 10_000);
  assert.equal(s.trainUnique, 8_296);
  assert.equal(s.spill, 154);
  assert.equal(list.test.length, 3_794);
  assert.equal(s.testSpill, 129);
  assert.equal(s.testNormal, 3_665);
  checkSplit(list, 0.1, 1);
});
