import { test } from "node:test";
import assert from "node:assert/strict";
import { augmentInPlace } from "../lib/augment";
import { mulberry32 } from "../lib/random";

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
  const a = make(), b = make(), c = make();
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
