import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import {
  errorMapPng,
  heatColour,
  pickExamples,
  pngGrid,
  reconstructionExamples,
  reconstructionTiles,
  selectImages,
  toPng,
} from "../../lib/report/images";

async function pngSize(bytes: Uint8Array) {
  const m = await sharp(bytes).metadata();
  assert.equal(m.format, "png");
  return { width: m.width, height: m.height, channels: m.channels };
}

test("toPng: an HWC image becomes a PNG scaled by nearest neighbour, pixel values kept", async () => {
  const img = new Float32Array(2 * 3 * 3);
  img.set([1, 0, 0], 0); // top-left red
  img.set([0, 0, 1], (1 * 3 + 2) * 3); // bottom-right blue
  const png = await toPng(img, [2, 3, 3], { scale: 4 });
  assert.deepEqual(await pngSize(png), { width: 12, height: 8, channels: 3 });
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => Array.from(data.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3));
  assert.deepEqual(px(3, 3), [255, 0, 0]); // still inside the top-left 4×4 block: no blending
  assert.deepEqual(px(4, 3), [0, 0, 0]);
  assert.deepEqual(px(11, 7), [0, 0, 255]);
  assert.deepEqual(await pngSize(await toPng(new Float32Array(6).fill(0.5), { height: 2, width: 3, channels: 1 })), {
    width: 3,
    height: 2,
    channels: 1,
  });
});

test("toPng rejects wrong lengths, bad scales and non-finite pixels", async () => {
  await assert.rejects(toPng(new Float32Array(5), [2, 3, 1]), /5 values but 2×3×1 needs 6/);
  await assert.rejects(toPng(new Float32Array(6), [2, 3, 1], { scale: 1.5 }), /scale must be a positive integer/);
  await assert.rejects(toPng(Float32Array.from([0, 0, NaN, 0, 0, 0]), [2, 3, 1]), /value 2 is NaN/);
  await assert.rejects(toPng(new Float32Array(8), [2, 2, 2]), /channels must be 1 or 3/);
});

test("heatColour runs dark → bright and clips", () => {
  assert.deepEqual(heatColour(0), [0, 0, 4]);
  assert.deepEqual(heatColour(1), [252, 255, 164]);
  assert.deepEqual(heatColour(7), heatColour(1));
  assert.deepEqual(heatColour(-1), heatColour(0));
  const brightness = [0, 0.25, 0.5, 0.75, 1].map((t) => heatColour(t).reduce((a, b) => a + b));
  brightness.slice(1).forEach((b, i) => assert.ok(b > brightness[i], `brighter at step ${i + 1}`));
});

test("errorMapPng: right size, a shared max fixes the colours, bad input is an error", async () => {
  const map = Float32Array.from([0, 0.01, 0.02, 0.04, 0, 0]);
  const png = await errorMapPng(map, 2, 3, { scale: 5, max: 0.02 });
  assert.deepEqual(await pngSize(png), { width: 15, height: 10, channels: 3 });
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => Array.from(data.subarray((y * 15 + x) * 3, (y * 15 + x) * 3 + 3));
  assert.deepEqual(px(0, 0), heatColour(0));
  assert.deepEqual(px(5, 0), heatColour(0.5));
  assert.deepEqual(px(10, 0), heatColour(1));
  assert.deepEqual(px(0, 5), heatColour(1)); // 0.04 > max: clipped to the brightest colour
  await assert.rejects(errorMapPng(map, 2, 2), /6 values but 2×2 needs 4/);
  await assert.rejects(errorMapPng(map, 2, 3, { max: 0 }), /max must be a positive finite number/);
});

test("pngGrid: columns as wide as their widest tile, rows as tall as their tallest, null cells empty", async () => {
  const a = await toPng(new Float32Array(2 * 3 * 3).fill(1), [2, 3, 3], { scale: 2 }); // 6 wide, 4 tall, white
  const b = await toPng(new Float32Array(5 * 4 * 3), [5, 4, 3]); // 4 wide, 5 tall, black
  const grid = await pngGrid([[a, null, b], [b]], { gap: 2, background: "#ff0000" });
  // columns 6 (a, b), 0 (spacer), 4 (b); rows 5, 5: width 2 + 8 + 2 + 6 = 18, height 2 + 7 + 7 = 16
  assert.deepEqual(await pngSize(grid), { width: 18, height: 16, channels: 3 });
  const { data } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => Array.from(data.subarray((y * 18 + x) * 3, (y * 18 + x) * 3 + 3));
  assert.deepEqual(px(2, 2), [255, 255, 255]); // a at (2, 2)
  assert.deepEqual(px(12, 2), [0, 0, 0]); // b in column 3 at x = 2 + 6 + 2 + 0 + 2 = 12
  assert.deepEqual(px(2, 9), [0, 0, 0]); // b in row 2 at y = 2 + 5 + 2 = 9
  assert.deepEqual(px(7, 9), [255, 0, 0]); // right of the 4-wide b: background
  await assert.rejects(pngGrid([]), /no tiles/);
  await assert.rejects(pngGrid([[null]]), /every tile is empty/);
  await assert.rejects(pngGrid([[a]], { gap: -1 }), /gap/);
});

test("pickExamples interleaves evenly spread normals and spills", () => {
  const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
  assert.deepEqual(pickExamples(labels, 2), [1, 7, 4, 9]); // the middle of each half of each class
  assert.deepEqual(pickExamples(labels, 9), [0, 6, 2, 7, 3, 8, 5, 9]); // limited by the 4 spills
  assert.throws(() => pickExamples([0, 0], 2), /need both classes/);
  assert.throws(() => pickExamples([0, 3], 2), /labels\[1\] is 3/);
  assert.throws(() => pickExamples([0, 1], 0), /perClass/);
});

test("selectImages, reconstructionExamples and reconstructionTiles", async () => {
  const shape: [number, number, number] = [2, 2, 1];
  const data = Float32Array.from({ length: 12 }, (_, i) => i / 12);
  const picked = selectImages(data, [2, 0], shape);
  assert.deepEqual(Array.from(picked), [...Array.from(data.subarray(8, 12)), ...Array.from(data.subarray(0, 4))]);
  assert.throws(() => selectImages(data, [3], shape), /index 3 is outside the batch of 3 images/);
  const recon = picked.map((v, i) => (i === 0 ? v + 0.5 : v));
  const ex = reconstructionExamples(picked, recon, [1, 0], shape);
  assert.equal(ex.length, 2);
  assert.equal(ex[0].label, 1);
  assert.ok(Math.abs(ex[0].mse - 0.25 / 4) < 1e-7);
  assert.ok(Math.abs(ex[0].errorMap[0] - 0.25) < 1e-7);
  assert.equal(ex[1].mse, 0);
  assert.throws(() => reconstructionExamples(picked, recon, [1], shape), /8 values for 1 labels/);
  const { tiles, max } = await reconstructionTiles(ex, shape, { scale: 3, percentile: 100 });
  assert.ok(Math.abs(max - 0.25) < 1e-7, "percentile 100 = the largest error among the examples");
  assert.deepEqual(await pngSize(tiles[1].error), { width: 6, height: 6, channels: 3 });
  assert.deepEqual(await pngSize(tiles[0].input), { width: 6, height: 6, channels: 1 });
  // default: the 99th percentile of the 8 pooled pixel errors [0 ×7, 0.25] = 0.93 · 0.25 (linear interpolation)
  assert.ok(Math.abs((await reconstructionTiles(ex, shape)).max - 0.93 * 0.25) < 1e-7);
  assert.equal((await reconstructionTiles(ex, shape, { max: 0.5 })).max, 0.5);
  // perfect reconstructions: the scale falls back to 1 rather than dividing by zero
  assert.equal((await reconstructionTiles([ex[1]], shape)).max, 1);
  await assert.rejects(reconstructionTiles([], shape), /no examples/);
});
