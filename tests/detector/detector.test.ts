import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { saveModel } from "../../lib/detector/checkpoint";
import {
  availableScores,
  DETECTOR_SCORES,
  detectorScores,
  fitDetector,
  loadDetector,
  saveDetectorParts,
} from "../../lib/detector/detector";
import { buildAutoencoder } from "../../lib/detector/model";
import { mulberry32 } from "../../lib/common/random";

const shape: [number, number, number] = [8, 12, 3];
const per = 8 * 12 * 3;
function wells(n: number, seed: number, smooth = false) {
  const rand = mulberry32(seed);
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const base = 0.4 + 0.1 * rand();
    for (let p = 0; p < 96; p++)
      for (let k = 0; k < 3; k++) out[i * per + p * 3 + k] = smooth ? base : Math.min(1, base + 0.3 * rand());
  }
  return out;
}

test("a detector fits every part without labels, saves them, loads them, and computes every score", async () => {
  const model = buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8], seed: 3 });
  const det = await fitDetector(model, shape, {
    train: wells(60, 1),
    reference: wells(30, 2),
    adapt: wells(30, 3),
    border: 0,
  });
  assert.deepEqual(availableScores(det), [...DETECTOR_SCORES]);
  assert.deepEqual(det.fusion!.parts, ["zTopKMean", "density"]);
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "detector-")), "m");
  await saveModel(model, dir, { shape });
  saveDetectorParts(dir, det);
  const loaded = await loadDetector(dir);
  const probe = wells(5, 4);
  const a = await detectorScores(det, probe, [...DETECTOR_SCORES]);
  const b = await detectorScores(loaded, probe, [...DETECTOR_SCORES]);
  for (const s of DETECTOR_SCORES) {
    assert.equal(a[s].length, 5);
    assert.ok(a[s].every(Number.isFinite), s);
    assert.deepEqual(Array.from(b[s]), Array.from(a[s]), `${s} after save and load`);
  }
  // a smooth, uniform "well" is as abnormal to the density as a rough one: far from the references
  const smooth = (await detectorScores(det, wells(5, 5, true), ["density"])).density;
  const normal = (await detectorScores(det, wells(5, 6), ["density"])).density;
  assert.ok(Math.min(...smooth) > Math.max(...normal), `smooth ${Array.from(smooth)}, normal ${Array.from(normal)}`);
});

test(
  "without a pool the detector has no zTopKMean or adapted density, " + "and the fusion pairs topKMean with density",
  async () => {
    const model = buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8], seed: 3 });
    const det = await fitDetector(model, shape, { train: wells(40, 1), reference: wells(20, 2), adapt: null });
    assert.ok(!availableScores(det).includes("zTopKMean") && !availableScores(det).includes("densityAdapted"));
    assert.deepEqual(det.fusion!.parts, ["topKMean", "density"]);
    await assert.rejects(detectorScores(det, wells(2, 3), ["densityAdapted"]), /needs a part this detector lacks/);
    await assert.rejects(detectorScores(det, wells(2, 3), ["nope" as "mse"]), /unknown score "nope"/);
  },
);

test("a density file fitted for another model's layers is refused when the detector loads", async () => {
  const a = buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 8] });
  const det = await fitDetector(a, shape, { train: wells(40, 1), reference: wells(20, 2), adapt: null });
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mismatch-")), "m");
  await saveModel(buildAutoencoder({ height: 8, width: 12, channels: 3, filters: [4, 16] }), dir, { shape });
  saveDetectorParts(dir, det);
  await assert.rejects(
    loadDetector(dir),
    new RegExp(
      String.raw`density\.json was fitted on layers image, enc1, enc2 \(30 features\), ` +
        String.raw`but the model gives image, enc1, enc2 \(46 features\)`,
    ),
  );
});
