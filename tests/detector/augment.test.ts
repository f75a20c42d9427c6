import { test } from "node:test";
import assert from "node:assert/strict";
import { augmentInPlace, GEOMETRIC_AUGMENT, zoomShift } from "../../lib/detector/augment";
import { mulberry32 } from "../../lib/common/random";

const shape: [number, number, number] = [2, 3, 1];

test("flip alone mirrors each row", () => {
  const img = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  // find a seed whose first draw flips
  let seed = 0;
  while (mulberry32(seed)() >= 0.5) seed++;
  augmentInPlace(img, shape, 1, mulberry32(seed), { brightness: 0, contrast: 0, flip: true });
  assert.deepEqual(Array.from(img), Array.from(Float32Array.from([0.3, 0.2, 0.1, 0.6, 0.5, 0.4])));
});

test("brightness and contrast keep values in [0, 1], are seeded, and change the image", () => {
  const make = () => Float32Array.from({ length: 4 * 6 }, (_, i) => (i % 7) / 6);
  const a = make(),
    b = make(),
    c = make();
  augmentInPlace(a, shape, 4, mulberry32(1), { brightness: 0.5, contrast: 0.9, flip: false });
  augmentInPlace(b, shape, 4, mulberry32(1), { brightness: 0.5, contrast: 0.9, flip: false });
  augmentInPlace(c, shape, 4, mulberry32(2), { brightness: 0.5, contrast: 0.9, flip: false });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, make());
  assert.ok(a.every((v) => v >= 0 && v <= 1));
});

test("only the first `count` images are touched; too many is an error", () => {
  const batch = new Float32Array(12).fill(0.5);
  augmentInPlace(batch, shape, 1, mulberry32(3), { brightness: 0.3, contrast: 0, flip: false });
  assert.deepEqual(Array.from(batch.subarray(6)), Array(6).fill(0.5));
  assert.throws(() => augmentInPlace(batch, shape, 3, mulberry32(1)), /do not fit/);
});

test("zoomShift: identity, whole-pixel shift with edge repeat, and zoom about the centre", () => {
  const s: [number, number, number] = [3, 4, 1];
  const src = Float32Array.from({ length: 12 }, (_, i) => i);
  const dst = new Float32Array(12);
  zoomShift(src, dst, s, 1, 1, 0, 0);
  assert.deepEqual(dst, src);
  zoomShift(src, dst, s, 1, 1, 0, 1); // content moves one pixel right; the left column repeats the edge
  assert.deepEqual(Array.from(dst), [0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10]);
  zoomShift(src, dst, s, 2, 2, 0, 0); // 2× zoom: the centre row (y = 1) stays; x = 0 samples x = 1.5 − 1.5 / 2
  assert.ok(Math.abs(dst[1 * 4 + 0] - (4 + 0.75)) < 1e-6, `got ${dst[4]}`);
  const rgb = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i % 3); // channels stay apart
  const out = new Float32Array(12);
  zoomShift(rgb, out, [2, 2, 3], 1.3, 0.8, 0.4, -0.3);
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(out[i] - (i % 3)) < 1e-6);
});

test("geometric augmentation is seeded, stays in [0, 1] and keeps a constant image constant", () => {
  const s: [number, number, number] = [8, 12, 3];
  const make = () => Float32Array.from({ length: 2 * 8 * 12 * 3 }, (_, i) => ((i * 37) % 101) / 100);
  const a = make(),
    b = make();
  augmentInPlace(a, s, 2, mulberry32(5), GEOMETRIC_AUGMENT);
  augmentInPlace(b, s, 2, mulberry32(5), GEOMETRIC_AUGMENT);
  assert.deepEqual(a, b);
  assert.ok(a.every((v) => v >= 0 && v <= 1));
  const flat = new Float32Array(8 * 12 * 3).fill(0.4);
  augmentInPlace(flat, s, 1, mulberry32(9), { brightness: 0, contrast: 0, flip: true, zoom: 0.3, shift: 3 });
  assert.ok(flat.every((v) => Math.abs(v - 0.4) < 1e-6));
  assert.throws(
    () => augmentInPlace(flat, s, 1, mulberry32(1), { ...GEOMETRIC_AUGMENT, zoom: 1.5 }),
    /zoom must be in/,
  );
});
