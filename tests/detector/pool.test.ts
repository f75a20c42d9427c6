import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  gatherImages,
  partIndices,
  poolErrorStats,
  poolPart,
  pseudoNormalImages,
  pseudoNormalIndices,
  splitPool,
} from "../../lib/detector/pool";
import { poolValidation } from "../../lib/detector/validation";
import { readErrorStats, writeErrorStats, ERROR_STATS_FILE } from "../../lib/detector/checkpoint";
import type { WellItem } from "../../lib/detector/wells";

test("poolPart: first 8 hex digits mod 3; copies share a part; a non-hash is an error", () => {
  assert.equal(poolPart("00000000ffff"), "adapt"); // 0 mod 3
  assert.equal(poolPart("00000001abcd"), "select"); // 1
  assert.equal(poolPart("00000002"), "report"); // 2
  assert.equal(poolPart("ffffffff"), "adapt"); // 4294967295 = 3 · 1431655765
  assert.throws(() => poolPart("xyz"), /hex SHA-1/);
});

test("splitPool: every image in exactly one part; an empty pool or part is an error", () => {
  const items: WellItem[] = Array.from({ length: 30 }, (_, i) => ({
    file: `/p/${i}.jpg`,
    label: 0,
    hash: i.toString(16).padStart(8, "0") + "0".repeat(32),
  }));
  const parts = splitPool(items);
  assert.equal(parts.adapt.length + parts.select.length + parts.report.length, 30);
  assert.deepEqual(parts.select.map((x) => x.file).slice(0, 2), ["/p/1.jpg", "/p/4.jpg"]);
  assert.throws(() => splitPool([]), /empty/);
  assert.throws(() => splitPool(items.filter((_, i) => i % 3 === 0)), /part "select" is empty/);
});

test("pseudoNormalIndices keeps the lowest share (ties in), never NaN; bad fractions are errors", () => {
  const scores = [5, 1, 9, 3, NaN, 7, 2, 8, 4, 6];
  assert.deepEqual(pseudoNormalIndices(scores, 0.5), [0, 1, 3, 6, 8]); // finite 1..9: 50th pct = 5 → ≤ 5
  assert.deepEqual(pseudoNormalIndices(scores, 1).length, 9);
  assert.throws(() => pseudoNormalIndices(scores, 0), /keepFraction/);
  assert.throws(() => pseudoNormalIndices([NaN], 0.5), /no finite/);
});

test("gatherImages copies whole images in the order asked; out of range is an error", () => {
  const data = Float32Array.from([0, 0, 1, 1, 2, 2]);
  assert.deepEqual(Array.from(gatherImages(data, 2, [2, 0])), [2, 2, 0, 0]);
  assert.throws(() => gatherImages(data, 2, [3]), /outside 3 images/);
});

test("error stats round-trip through a model folder; missing is null, damaged is a clear error", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stats-"));
  assert.equal(readErrorStats(dir), null);
  writeErrorStats(
    dir,
    { height: 1, width: 2, count: 5, mean: Float32Array.from([0.5, 0.25]), sd: Float32Array.from([0.1, 0.2]) },
    "fixture",
  );
  const back = readErrorStats(dir)!;
  assert.equal(back.fittedOn, "fixture");
  assert.deepEqual(Array.from(back.mean), [0.5, 0.25]);
  assert.equal(back.sd[1], Float32Array.from([0.2])[0]);
  fs.writeFileSync(path.join(dir, ERROR_STATS_FILE), JSON.stringify({ height: 2, width: 2, mean: [1], sd: [1] }));
  assert.throws(() => readErrorStats(dir), /2×2 = 4 values/);
  fs.writeFileSync(path.join(dir, ERROR_STATS_FILE), "{");
  assert.throws(() => readErrorStats(dir), /not valid JSON/);
});

test("partIndices: positions of one part, in order", () => {
  const items: WellItem[] = [0, 1, 2, 3, 4].map((i) => ({
    file: `${i}`,
    label: 0,
    hash: i.toString(16).padStart(8, "0"),
  }));
  assert.deepEqual(partIndices(items, "select"), [1, 4]);
  assert.deepEqual(partIndices(items, "report"), [2]);
});

test(
  "pseudoNormalImages, poolErrorStats and poolValidation " +
    "with a small model (an identity-like AE on the cpu backend)",
  async () => {
    await tf.setBackend("cpu");
    const shape: [number, number, number] = [8, 8, 1];
    // a fixed "autoencoder" that returns a blurred copy: smooth images reconstruct well, speckled ones badly
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: shape,
          filters: 1,
          kernelSize: 3,
          padding: "same",
          useBias: false,
          kernelInitializer: tf.initializers.constant({ value: 1 / 9 }),
        }),
      ],
    });
    const smooth = (k: number) => Float32Array.from({ length: 64 }, (_, i) => 0.4 + 0.05 * Math.sin((i + k) / 9));
    const speckled = (k: number) => Float32Array.from({ length: 64 }, (_, i) => ((i * 7 + k) % 5 === 0 ? 1 : 0.4));
    const pool = new Float32Array(20 * 64);
    for (let k = 0; k < 20; k++) pool.set(k < 18 ? smooth(k) : speckled(k), k * 64); // 2 "spills" out of 20
    const picked = await pseudoNormalImages(model, pool, shape, "topKMean", 0.9);
    assert.equal(picked.total, 20);
    assert.equal(picked.kept, 18, "the two speckled images are the ones left out");
    const stats = await poolErrorStats(model, pool, shape, 0.9);
    assert.equal(stats.count, 18);
    assert.equal(stats.mean.length, 64);
    const proliv = new Float32Array(4 * 64);
    for (let k = 0; k < 4; k++) proliv.set(speckled(100 + k), k * 64);
    const rows = await poolValidation(model, pool, proliv, shape, ["mse", "zTopKMean"], {
      scoreOptions: { errorStats: stats },
    });
    assert.deepEqual(
      rows.map((r) => r.score),
      ["mse", "zTopKMean"],
    );
    for (const r of rows) {
      assert.ok(r.aurocProliv > 0.8, `${r.score}: proliv vs pool ${r.aurocProliv}`);
      assert.equal(r.selection, (r.aurocProliv + r.aurocSynthetic) / 2);
    }
    await assert.rejects(poolValidation(model, pool, proliv, shape, ["zTopKMean"]), /needs errorStats/);
    model.dispose();
  },
);
