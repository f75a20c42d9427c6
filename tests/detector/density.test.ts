import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  choleskyFactor,
  fitGaussian,
  ledoitWolf,
  mahalanobis,
  readDensity,
  writeDensity,
} from "../../lib/detector/density";
import type { FeatureSpec, ImageFeatures } from "../../lib/detector/features";
import { mulberry32 } from "../../lib/common/random";

const spec = (d: number, layers = ["image"]): FeatureSpec => ({
  layers,
  parts: [],
  size: d,
  names: Array.from({ length: d }, (_, i) => `f[${i}]`),
});
function gaussian(n: number, d: number, seed = 1, mix?: number[][]): ImageFeatures {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const data = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const e = Array.from({ length: d }, normal);
    for (let j = 0; j < d; j++)
      data[r * d + j] = mix ? mix[j].reduce((s, m, k) => s + m * e[k], 0) : e[j] * (j + 1) + 10 * j;
  }
  return { data, count: n, spec: spec(d) };
}

test("ledoitWolf: the shrinkage equals a direct evaluation of its formula, sample by sample", () => {
  const n = 40,
    k = 5;
  const x = gaussian(n, k, 3).data;
  const { cov, shrinkage, mu } = ledoitWolf(x, n, k);
  // direct: centre, S, μ, δ = ‖S − μI‖²/k, β = (1/n²) Σᵢ ‖xᵢxᵢᵀ − S‖² / k
  const m = Array.from(
    { length: k },
    (_, c) => Array.from({ length: n }, (_, r) => x[r * k + c]).reduce((a, b) => a + b) / n,
  );
  const xc = (r: number, c: number) => x[r * k + c] - m[c];
  const S = Array.from({ length: k }, (_, i) =>
    Array.from(
      { length: k },
      (_, j) => Array.from({ length: n }, (_, r) => xc(r, i) * xc(r, j)).reduce((a, b) => a + b) / n,
    ),
  );
  const muD = S.reduce((s, row, i) => s + row[i], 0) / k;
  let delta = 0,
    beta = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) delta += (S[i][j] - (i === j ? muD : 0)) ** 2 / k;
  for (let r = 0; r < n; r++)
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) beta += (xc(r, i) * xc(r, j) - S[i][j]) ** 2 / (n * n * k);
  assert.ok(Math.abs(mu - muD) < 1e-9);
  assert.ok(Math.abs(shrinkage - Math.min(beta, delta) / delta) < 1e-9, `${shrinkage} vs ${beta / delta}`);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) assert.ok(Math.abs(cov[i * k + j] - S[i][j]) < 1e-9);
});

test("mahalanobis: equals √(zᵀ Σ⁻¹ z) with the shrunk Σ, and is larger far from the references", () => {
  const f = gaussian(500, 4, 2, [
    [1, 0, 0, 0],
    [0.8, 0.6, 0, 0],
    [0, 0, 2, 0],
    [0, 0, 1, 1],
  ]);
  const g = fitGaussian(f, { fittedOn: "test" });
  const k = 4,
    L = g.cholesky;
  // Σ = L Lᵀ; solve Σ v = z by Gauss–Jordan, independently of the triangular solve in mahalanobis
  const sigma = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) =>
      Array.from({ length: k }, (_, p) => L[i * k + p] * L[j * k + p]).reduce((a, b) => a + b),
    ),
  );
  const probe: ImageFeatures = { data: Float64Array.from([0.5, 1, -2, 3, 0, 0, 0, 0]), count: 2, spec: f.spec };
  const got = mahalanobis(g, probe);
  for (let r = 0; r < 2; r++) {
    const z = Array.from({ length: k }, (_, i) => (probe.data[r * k + i] - g.center[i]) / g.scale[i]);
    const a = sigma.map((row, i) => [...row, z[i]]);
    for (let c = 0; c < k; c++) {
      const p = a[c][c];
      for (let j = 0; j <= k; j++) a[c][j] /= p;
      for (let i = 0; i < k; i++)
        if (i !== c) {
          const q = a[i][c];
          for (let j = 0; j <= k; j++) a[i][j] -= q * a[c][j];
        }
    }
    const d2 = z.reduce((s, zi, i) => s + zi * a[i][k], 0);
    assert.ok(Math.abs(got[r] - Math.sqrt(d2)) < 1e-4, `${got[r]} vs ${Math.sqrt(d2)}`);
  }
  const near = mahalanobis(g, { data: Float64Array.from(g.center), count: 1, spec: f.spec })[0];
  const far = mahalanobis(g, {
    data: Float64Array.from(g.center, (c, i) => c + 5 * g.scale[i]),
    count: 1,
    spec: f.spec,
  })[0];
  assert.ok(near < 1e-6 && far > 3, `near ${near}, far ${far}`);
});

test(
  "fitGaussian: fewer images than features still fits (shrinkage > 0); " +
    "1 image, NaN and all-constant features are refused",
  () => {
    const small = gaussian(10, 50, 4);
    const g = fitGaussian(small, { fittedOn: "10 images" });
    assert.ok(g.shrinkage > 0 && g.shrinkage <= 1);
    assert.ok(mahalanobis(g, gaussian(3, 50, 5)).every(Number.isFinite));
    assert.throws(() => fitGaussian(gaussian(1, 3), { fittedOn: "x" }), /at least 2 reference images/);
    const bad = gaussian(20, 3);
    bad.data[7] = NaN;
    assert.throws(() => fitGaussian(bad, { fittedOn: "x" }), /feature f\[1\] of image 2 is NaN/);
    const flat: ImageFeatures = { data: new Float64Array(30).fill(0.5), count: 10, spec: spec(3, ["enc1"]) };
    assert.throws(() => fitGaussian(flat, { fittedOn: "x" }), /all 3 features are constant .*enc1/);
  },
);

test("fitGaussian drops constant features (a dead channel) and lists them", () => {
  const f = gaussian(100, 3);
  for (let r = 0; r < 100; r++) f.data[r * 3 + 1] = 0;
  const g = fitGaussian(f, { fittedOn: "x" });
  assert.deepEqual(g.kept, [0, 2]);
  assert.deepEqual(g.dropped, ["f[1]"]);
  assert.equal(mahalanobis(g, f).length, 100);
});

test("choleskyFactor refuses a matrix that is not positive definite", () => {
  assert.throws(() => choleskyFactor(Float64Array.from([1, 2, 2, 1]), 2), /not positive definite/);
});

test(
  "density.json: round trip, and a density for other layers, " + "another version or a broken file is refused by name",
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "density-"));
    const f = gaussian(50, 4);
    const g = fitGaussian(f, { fittedOn: "round trip", border: 0.25 });
    writeDensity(dir, g);
    const back = readDensity(dir, f.spec)!;
    assert.deepEqual(Array.from(back.cholesky), Array.from(g.cholesky));
    assert.equal(back.border, 0.25);
    assert.deepEqual(Array.from(mahalanobis(back, f)), Array.from(mahalanobis(g, f)));
    assert.equal(readDensity(fs.mkdtempSync(path.join(os.tmpdir(), "none-"))), null);
    assert.throws(
      () => readDensity(dir, spec(4, ["image", "enc1"])),
      /density\.json was fitted on layers image \(4 features\), but the model gives image, enc1/,
    );
    const file = path.join(dir, "density.json");
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), version: 99 }));
    assert.throws(() => readDensity(dir), /version 99/);
    fs.writeFileSync(file, "{ not json");
    assert.throws(() => readDensity(dir), /density\.json is not valid JSON/);
  },
);
