import { test } from "node:test";
import assert from "node:assert/strict";
import { buildValidationSuite, deploymentThreshold, scoreShift } from "../../lib/detector";
import { addDefect, syntheticAnomalies } from "../../lib/detector/synthetic";
import { mulberry32 } from "../../lib/common/random";

const shape: [number, number, number] = [8, 12, 3];
const per = 8 * 12 * 3;
const flat = (n: number, v = 0.5) => new Float32Array(n * per).fill(v);

test("synthetic defects change the image, are reproducible by seed, and stay in [0, 1]", () => {
  const a = syntheticAnomalies(flat(6), shape, { seed: 3 });
  const b = syntheticAnomalies(flat(6), shape, { seed: 3 });
  const c = syntheticAnomalies(flat(6), shape, { seed: 4 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.deepEqual(a.kinds, ["speckle", "stain", "cutpaste", "blur", "flat", "inpaint"]);
  assert.ok(a.data.every((v) => v >= 0 && v <= 1));
  for (const kind of ["speckle", "stain"] as const) {
    const img = flat(1);
    const out = addDefect(img, shape, kind, mulberry32(1));
    assert.ok(
      out.some((v, i) => v !== img[i]),
      `${kind} left the image unchanged`,
    );
    assert.equal(img[0], 0.5, "the input is not modified");
  }
});

test("cutpaste copies a patch of the same image", () => {
  const img = Float32Array.from({ length: per }, (_, i) => (i % 97) / 97);
  const out = addDefect(img, shape, "cutpaste", mulberry32(2));
  const values = new Set(img);
  assert.ok(out.every((v) => values.has(v)));
  assert.ok(out.some((v, i) => v !== img[i]));
});

test("the suite keeps defect originals out of the negatives", () => {
  const data = flat(5);
  for (let i = 0; i < 5; i++) data.fill(i / 10, i * per, (i + 1) * per);
  const suite = buildValidationSuite({ data, labels: Uint8Array.from([0, 0, 0, 0, 1]) }, shape);
  assert.equal(suite.normals.length, 2 * per);
  assert.equal(suite.proliv.length, per);
  assert.equal(suite.syntheticKinds.length, 2);
  assert.deepEqual([suite.normals[0], suite.normals[per]], [0, Math.fround(0.2)]);
  assert.throws(() => buildValidationSuite({ data: flat(1), labels: Uint8Array.from([0]) }, shape), /at least two/);
});

test("scoreShift and deploymentThreshold", () => {
  const shift = scoreShift([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], [50]);
  assert.deepEqual(shift, [{ quantile: 50, heldOut: 3, deployment: 6, ratio: 2 }]);
  const scores = Array.from({ length: 101 }, (_, i) => i);
  assert.equal(deploymentThreshold(scores, 0.05), 95);
  assert.throws(() => deploymentThreshold(scores, 0), /maxSpillShare/);
  assert.throws(() => deploymentThreshold([], 0.05), /no unlabelled/);
  assert.throws(() => scoreShift([], [1]), /non-empty/);
});

test("texture-removing defects lower the local spread; a colour cast scales the channels", () => {
  const img = Float32Array.from({ length: per }, (_, i) => ((i * 7919) % 101) / 101); // rough texture
  const spread = (x: Float32Array) => {
    const m = x.reduce((a, b) => a + b) / x.length;
    return x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
  };
  for (const kind of ["blur", "flat", "inpaint"] as const) {
    const out = addDefect(img, shape, kind, mulberry32(3));
    assert.ok(spread(out) < 0.8 * spread(img), `${kind}: spread ${spread(out)} vs ${spread(img)}`);
    assert.ok(out.every((v) => v >= 0 && v <= 1));
  }
  const cast = addDefect(flat(1), shape, "cast", mulberry32(3));
  for (let k = 0; k < 3; k++)
    assert.ok(Math.abs(cast[k] - 0.5) >= 0.5 * 0.05 - 1e-6 && cast.every((v, i) => v === cast[i % 3]));
});
