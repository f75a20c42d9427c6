import assert from "node:assert/strict";
import { test } from "node:test";
import { describeShape, gatherImages, imageCount, imageSize, toImageShape } from "../../lib/detector/shape";

test("toImageShape, describeShape, imageSize: tuple or object, every dimension checked", () => {
  assert.deepEqual(toImageShape([2, 3, 1]), { height: 2, width: 3, channels: 1 });
  assert.equal(describeShape({ height: 32, width: 48, channels: 3 }), "32×48×3");
  assert.equal(imageSize([32, 48, 3]), 4608);
  assert.throws(() => toImageShape([2, 0, 3]), /width/);
  assert.throws(() => toImageShape([2, 3, 1.5]), /channels/);
});

test("imageCount: the number of images, or an error naming where, the count and the shape", () => {
  assert.equal(imageCount(new Float32Array(12), [2, 2, 3], "x"), 1);
  assert.equal(imageCount(new Float32Array(0), [2, 2, 3], "x"), 0);
  assert.throws(
    () => imageCount(new Float32Array(13), [2, 2, 3], "scoreBatch"),
    /^Error: scoreBatch: 13 values is not a whole number of 2×2×3 images \(12 values each\)$/,
  );
});

test("gatherImages: the chosen images in order (repeats allowed), bytes or floats, indices checked", () => {
  const data = Float32Array.from([0, 0, 1, 1, 2, 2]);
  assert.deepEqual(Array.from(gatherImages(data, 2, [2, 0, 2])), [2, 2, 0, 0, 2, 2]);
  const bytes = gatherImages(Uint8Array.from([5, 6, 7]), 1, [1]);
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(Array.from(bytes), [6]);
  assert.throws(() => gatherImages(data, 2, [3], "pool"), /pool: index 3 is outside 3 images/);
  assert.throws(() => gatherImages(data, 2, [0.5]), /index 0\.5/);
});
