import { test } from "node:test";
import assert from "node:assert/strict";
import { fitFusion, fuse, robustScale, robustZ } from "../../lib/detector/fusion";
import { auroc } from "../../lib/detector/metrics";
import { mulberry32 } from "../../lib/common/random";

test("robustScale: median and 1.4826·MAD, unmoved by outliers; NaN, empty and zero spread are refused", () => {
  const s = robustScale([1, 2, 3, 4, 100]);
  assert.equal(s.median, 3);
  assert.ok(Math.abs(s.mad - 1.4826) < 1e-12);
  assert.deepEqual(
    Array.from(robustZ(s, [3, 3 + 1.4826])).map((v) => +v.toFixed(5)),
    [0, 1],
  );
  assert.throws(() => robustScale([]), /empty/);
  assert.throws(() => robustScale([1, NaN]), /\[1\] is NaN/);
  assert.throws(() => robustScale([2, 2, 2, 5]), /no spread/);
});

test("fusion catches what each single score misses (a crafted case)", () => {
  const rand = mulberry32(9);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // two scores on very different scales; kind A anomalies are high on score a only, kind B on score b only
  const ref = {
    a: Array.from({ length: 400 }, () => 0.01 * normal()),
    b: Array.from({ length: 400 }, () => 100 + 50 * normal()),
  };
  const normals = {
    a: Array.from({ length: 300 }, () => 0.01 * normal()),
    b: Array.from({ length: 300 }, () => 100 + 50 * normal()),
  };
  const kindA = {
    a: Array.from({ length: 50 }, () => 0.06 + 0.01 * normal()),
    b: Array.from({ length: 50 }, () => 100 + 50 * normal()),
  };
  const kindB = {
    a: Array.from({ length: 50 }, () => 0.01 * normal()),
    b: Array.from({ length: 50 }, () => 400 + 50 * normal()),
  };
  const all = { a: [...normals.a, ...kindA.a, ...kindB.a], b: [...normals.b, ...kindA.b, ...kindB.b] };
  const labels = [...Array(300).fill(0), ...Array(100).fill(1)];
  const single = { a: auroc(labels, all.a), b: auroc(labels, all.b) };
  const fusion = fitFusion(ref, "sum", "crafted reference normals");
  const sum = auroc(labels, fuse(fusion, all));
  const max = auroc(labels, fuse({ ...fusion, rule: "max" }, all));
  assert.ok(single.a < 0.8 && single.b < 0.8, `single scores ${single.a}, ${single.b}`);
  assert.ok(sum > 0.95 && max > 0.98, `fusion sum ${sum}, max ${max}`);
});

test("fitFusion / fuse check their input", () => {
  assert.throws(() => fitFusion({ a: [1, 2, 3] }, "sum", "x"), /at least two/);
  assert.throws(() => fitFusion({ a: [1, 2, 3], b: [1, 2] }, "sum", "x"), /b has 2 reference values/);
  assert.throws(() => fitFusion({ a: [1, 2, 3], b: [1, 2, 4] }, "mean" as "sum", "x"), /rule must be one of sum, max/);
  const f = fitFusion({ a: [1, 2, 3], b: [1, 2, 4] }, "sum", "x");
  assert.throws(() => fuse(f, { a: [1] }), /b are missing/);
});
