import { test } from "node:test";
import assert from "node:assert/strict";
import {
  boxFilter,
  errorMap,
  maxSmoothedErrorScore,
  mseScore,
  SCORE_NAMES,
  PLAIN_SCORES,
  fitErrorStats,
  ERROR_SD_FLOOR,
  scoreBatch,
  ssimScore,
  topKMeanScore,
  type ScoreName,
} from "../../lib/detector/scores";

const close = (actual: number, expected: number, eps = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);
const closeAll = (actual: ArrayLike<number>, expected: number[], eps = 1e-6) => {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => close(actual[i], e, eps));
};

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 1×2 RGB: pixel 0 errors .09, 0, .09 → .06; pixel 1 errors 0, 0, .36 → .12
const shape12 = { height: 1, width: 2, channels: 3 };
const input12 = Float32Array.from([0.5, 0.5, 0.5, 1, 1, 1]);
const recon12 = Float32Array.from([0.2, 0.5, 0.8, 1, 1, 0.4]);

test("errorMap: squared error averaged over channels; MSE is its mean", () => {
  closeAll(errorMap(input12, recon12, shape12), [0.06, 0.12]);
  closeAll(errorMap(input12, recon12, [1, 2, 3]), [0.06, 0.12]); // tuple shape
  close(mseScore(input12, recon12), 0.09);
  closeAll(errorMap([0.25, 1], [0.75, 0], { height: 2, width: 1, channels: 1 }), [0.25, 1]);
});

test("boxFilter: clipped windows by hand, and a summed-area table equal to the naive mean", () => {
  const shape = { height: 3, width: 3, channels: 1 };
  const map = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  // corner (0,0): mean(1,2,4,5) = 3; edge (0,1): mean(1..6) = 3.5; centre: mean(1..9) = 5
  closeAll(boxFilter(map, shape, 1), [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7]);
  closeAll(boxFilter(map, shape, 0), map);
  closeAll(boxFilter(map, shape, 10), new Array(9).fill(5));
  const rand = rng(1);
  const [h, w] = [7, 5];
  const big = Float32Array.from({ length: h * w }, rand);
  for (const r of [1, 2, 3]) {
    const naive: number[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sum = 0;
        let count = 0;
        for (let yy = y - r; yy <= y + r; yy++) {
          for (let xx = x - r; xx <= x + r; xx++) {
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            sum += big[yy * w + xx];
            count++;
          }
        }
        naive.push(sum / count);
      }
    }
    closeAll(boxFilter(big, { height: h, width: w, channels: 1 }, r), naive);
  }
});

test("maxSmoothedErrorScore: a compact blob beats the same error spread out; borders are not missed", () => {
  const shape = { height: 5, width: 5, channels: 1 };
  const lone = new Float32Array(25);
  lone[12] = 0.9; // one bad pixel in the centre
  close(maxSmoothedErrorScore(lone, shape, 1), 0.1); // 0.9 / 9
  close(maxSmoothedErrorScore(lone, shape, 0), 0.9);
  const corner = new Float32Array(25);
  for (const p of [0, 1, 5, 6]) corner[p] = 0.5; // 2×2 spill in the top-left corner
  close(maxSmoothedErrorScore(corner, shape, 1), 0.5); // window at (0,0) clipped to those 4 pixels
  const spread = new Float32Array(25);
  for (const p of [0, 4, 20, 24]) spread[p] = 0.5; // same total error in four far corners
  close(maxSmoothedErrorScore(spread, shape, 1), 0.125);
  assert.ok(maxSmoothedErrorScore(corner, shape, 1) > maxSmoothedErrorScore(spread, shape, 1));
  close(maxSmoothedErrorScore(lone, [5, 5, 3], 1), 0.1); // image shape tuple: channels are irrelevant for a map
});

test("topKMeanScore: mean of the ⌈fraction · n⌉ largest errors", () => {
  const map = [0.1, 0.5, 0.2, 0.9];
  close(topKMeanScore(map, 0.5), 0.7);
  close(topKMeanScore(map, 0.3), 0.7); // ⌈1.2⌉ = 2
  close(topKMeanScore(map, 0.01), 0.9); // at least one pixel
  close(topKMeanScore(map, 1), 0.425);
});

test("ssimScore: 0 for identical images, hand-computed single windows, RGB gray = gray", () => {
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  const gray = { height: 1, width: 2, channels: 1 };
  close(ssimScore([0.3, 0.7], [0.3, 0.7], gray, 1), 0, 1e-12);
  // window covers both pixels: means .5, variances .25, covariance −.25
  close(ssimScore([0, 1], [1, 0], gray, 1), 1 - (-0.5 + C2) / (0.5 + C2), 1e-12);
  // flat images 0.2 vs 0.4: only the luminance term is left
  close(ssimScore([0.2, 0.2], [0.4, 0.4], gray, 1), 1 - (0.16 + C1) / (0.2 + C1), 1e-12);
  const rgb = { height: 1, width: 2, channels: 3 };
  close(ssimScore([0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0], rgb, 1), ssimScore([0, 1], [1, 0], gray, 1), 1e-12);
  const rand = rng(2);
  const a = Float32Array.from({ length: 8 * 8 * 3 }, rand);
  const b = a.map((v) => Math.min(1, v + 0.3 * rand()));
  const s = ssimScore(a, b, [8, 8, 3]);
  assert.ok(s > 0 && s < 2, `ssim score ${s}`);
});

test("scoreBatch: one score per image, equal to the single-image functions", () => {
  const shape = { height: 6, width: 4, channels: 3 };
  const size = 6 * 4 * 3;
  const rand = rng(9);
  const inputs = Float32Array.from({ length: 3 * size }, rand);
  const recons = Float32Array.from({ length: 3 * size }, rand);
  assert.deepEqual([...SCORE_NAMES], ["mse", "maxSmoothed", "topKMean", "ssim", "zTopKMean"]);
  assert.deepEqual([...PLAIN_SCORES], ["mse", "maxSmoothed", "topKMean", "ssim"]);
  for (const name of PLAIN_SCORES) {
    const scores = scoreBatch(name, inputs, recons, shape, { radius: 1, fraction: 0.1 });
    assert.ok(scores instanceof Float32Array);
    assert.equal(scores.length, 3);
    for (let i = 0; i < 3; i++) {
      const x = inputs.subarray(i * size, (i + 1) * size);
      const y = recons.subarray(i * size, (i + 1) * size);
      const map = errorMap(x, y, shape);
      const expected = {
        mse: mseScore(x, y),
        maxSmoothed: maxSmoothedErrorScore(map, shape, 1),
        topKMean: topKMeanScore(map, 0.1),
        ssim: ssimScore(x, y, shape, 1),
      }[name];
      close(scores[i], expected);
    }
  }
  // defaults: radius 2 for maxSmoothed, fraction 0.01 (→ 1 pixel) for topKMean
  const one = errorMap(inputs.subarray(0, size), recons.subarray(0, size), shape);
  close(scoreBatch("maxSmoothed", inputs, recons, shape)[0], maxSmoothedErrorScore(one, shape, 2));
  close(scoreBatch("topKMean", inputs, recons, [6, 4, 3])[0], Math.max(...one));
});

test("errors: shape mismatches, bad shapes and options, unknown score", () => {
  const shape = { height: 2, width: 2, channels: 3 };
  assert.throws(
    () => errorMap(new Float32Array(11), new Float32Array(12), shape),
    /input has 11 values but shape 2×2×3 needs 12/,
  );
  assert.throws(
    () => errorMap(new Float32Array(12), new Float32Array(10), shape),
    /reconstruction has 10 values but shape 2×2×3 needs 12/,
  );
  assert.throws(
    () => errorMap(new Float32Array(12), new Float32Array(12), { height: 2, width: 0, channels: 3 }),
    /width must be a positive integer, got 0/,
  );
  assert.throws(
    () => errorMap(new Float32Array(12), new Float32Array(12), [2, 2, 2.5]),
    /channels must be a positive integer, got 2.5/,
  );
  assert.throws(() => mseScore([1, 2], [1]), /input has 2 values but reconstruction has 1/);
  assert.throws(() => maxSmoothedErrorScore(new Float32Array(5), shape, 1), /error map has 5 values but 2×2 needs 4/);
  assert.throws(
    () => maxSmoothedErrorScore(new Float32Array(4), shape, -1),
    /radius must be a non-negative integer, got -1/,
  );
  assert.throws(() => boxFilter(new Float32Array(4), shape, 1.5), /radius must be a non-negative integer, got 1.5/);
  assert.throws(() => topKMeanScore([1, 2], 0), /fraction must be in \(0, 1\], got 0/);
  assert.throws(() => topKMeanScore([], 0.5), /empty error map/);
  assert.throws(() => ssimScore(new Float32Array(12), new Float32Array(9), shape), /reconstruction has 9 values/);
  assert.throws(
    () => scoreBatch("mse", new Float32Array(24), new Float32Array(12), shape),
    /inputs have 24 values but reconstructions have 12/,
  );
  assert.throws(
    () => scoreBatch("mse", new Float32Array(18), new Float32Array(18), shape),
    /18 values is not a whole number of 2×2×3 images \(12 values each\)/,
  );
  assert.throws(
    () => scoreBatch("psnr" as ScoreName, new Float32Array(12), new Float32Array(12), shape),
    /unknown score "psnr"; choose one of mse, maxSmoothed, topKMean, ssim/,
  );
  assert.throws(
    () => scoreBatch("topKMean", new Float32Array(12), new Float32Array(12), shape, { fraction: 2 }),
    /fraction must be in \(0, 1\], got 2/,
  );
});

test("fitErrorStats: per-pixel mean and population sd of the error map, by hand", () => {
  const shape: [number, number, number] = [1, 2, 1];
  // three images of two pixels; errors (x − r)² per pixel: [0.01, 0], [0.09, 0], [0.04, 0]
  const x = Float32Array.from([0.1, 0.5, 0.3, 0.5, 0.2, 0.5]);
  const r = new Float32Array([0, 0.5, 0, 0.5, 0, 0.5]);
  const st = fitErrorStats(x, r, shape);
  assert.equal(st.count, 3);
  close(st.mean[0], (0.01 + 0.09 + 0.04) / 3);
  close(st.sd[0], Math.sqrt(((0.01 - 0.14 / 3) ** 2 + (0.09 - 0.14 / 3) ** 2 + (0.04 - 0.14 / 3) ** 2) / 3));
  close(st.mean[1], 0);
  close(st.sd[1], 0);
  assert.throws(() => fitErrorStats(x.subarray(0, 2), r.subarray(0, 2), shape), /at least two/);
  assert.throws(() => fitErrorStats(x, r.subarray(0, 4), shape), /reconstructions have 4/);
});

test("zTopKMean: the top-k mean of the standardised error map; needs matching stats", () => {
  const shape: [number, number, number] = [2, 2, 1];
  const stats = {
    height: 2,
    width: 2,
    count: 10,
    mean: Float32Array.from([0.5, 0, 0, 0]),
    sd: Float32Array.from([1, 0.01, 0.01, 0.01]),
  };
  // errors [0.81, 0.01, 0, 0]: the big error sits where normals always err (pixel 0), the small one where they never do
  const x = Float32Array.from([0.9, 0.1, 0, 0]),
    r = new Float32Array(4);
  const z = scoreBatch("zTopKMean", x, r, shape, { errorStats: stats, fraction: 0.25 })[0];
  // standardised: pixel 0 (0.81 − 0.5) / 1.0001 ≈ 0.31, pixel 1 0.01 / 0.0101 ≈ 0.99 — the small error in a quiet
  // place wins
  close(z, 0.01 / (0.01 + ERROR_SD_FLOOR));

  assert.ok(scoreBatch("topKMean", x, r, shape, { fraction: 0.25 })[0] > 0.8, "plain topKMean follows the big error");
  assert.throws(() => scoreBatch("zTopKMean", x, r, shape), /needs errorStats/);
  assert.throws(() => scoreBatch("zTopKMean", x, r, shape, { errorStats: { ...stats, width: 3 } }), /2×3 images/);
});
