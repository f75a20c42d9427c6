/**
 * A Gaussian density over per-image feature vectors, scored by Mahalanobis distance (Rippel et al. 2020, "Modeling
 * the distribution of normal data in pre-trained deep features for anomaly detection").
 *
 * Fitting, on reference normals only:
 *   1. each feature is standardised by its mean and standard deviation over the reference images; features that do
 *      not vary there (a dead ReLU channel) carry no information and are dropped, and listed in `dropped`;
 *   2. the sample covariance (here: correlation) matrix S of the standardised features is shrunk toward μ·I,
 *      Σ = (1 − ρ) S + ρ μ I, μ = trace(S) / d, with the Ledoit–Wolf (2004) coefficient ρ (no knob to tune). With
 *      fewer images than features S is singular and ρ > 0 keeps Σ positive definite;
 *   3. Σ is factored as L·Lᵀ (Cholesky).
 * Score: the Mahalanobis distance √(zᵀ Σ⁻¹ z) of an image's standardised features, from the triangular solve L·y = z.
 *
 * The fitted density is stored beside the model (`density.json`, version 1): the layers it reads, the feature size,
 * the number of reference images and what they were, ρ, and the arrays as base64 float64.
 *
 *   const f = await imageFeatures(model, trainImages, [32, 48, 3]);
 *   const density = fitGaussian(f, { fittedOn: "train part of train/" });
 *   mahalanobis(density, await imageFeatures(model, testImages, [32, 48, 3]))   // Float32Array, one per image
 *   writeDensity("models/wells-ae", density); readDensity("models/wells-ae", featureSpec(model))
 *
 * Written here (no npm package serves it): Ledoit–Wolf and a Cholesky solve are 100 lines, while the linear-algebra
 * packages on npm (ml-matrix and the like) have neither the shrinkage estimator nor float64 SIMD speed to offer.
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../common/atomic";
import { errorText } from "../tf/worker-threads";
import type { FeatureSpec, ImageFeatures } from "./features";

const DENSITY_VERSION = 1;
const DENSITY_FILE = "density.json";

export interface GaussianDensity {
  version: number;
  kind: "gaussian";
  /** Layers the features come from (lib/features featureSpec), and the feature vector's length before dropping. */
  layers: string[];
  featureSize: number;
  /** The `border` the features were computed with (lib/features): score with the same. */
  border: number;
  /** Indices (into the full feature vector) of the features used, and the names of those dropped as constant. */
  kept: number[];
  dropped: string[];
  /** Reference images fitted on, and what they were. */
  count: number;
  fittedOn: string;
  /** The Ledoit–Wolf shrinkage coefficient ρ in [0, 1]. */
  shrinkage: number;
  /** Per kept feature: mean and standard deviation over the reference images. */
  center: Float64Array;
  scale: Float64Array;
  /** Lower-triangular Cholesky factor of the shrunk covariance, k×k row-major (k = kept.length). */
  cholesky: Float64Array;
}

/** Relative spread below which a feature counts as constant over the references. */
const CONSTANT_SD = 1e-9;

function checkFeatures(f: ImageFeatures, what: string): void {
  if (f.data.length !== f.count * f.spec.size)
    throw new Error(`${what}: ${f.data.length} values is not ${f.count} rows of ${f.spec.size} features`);
  for (let i = 0; i < f.data.length; i++)
    if (!Number.isFinite(f.data[i])) {
      const row = Math.floor(i / f.spec.size),
        col = i % f.spec.size;
      throw new Error(
        `${what}: feature ${f.spec.names[col] ?? col} of image ${row} is ${f.data[i]} ` +
          "(check the model's weights and the input images)",
      );
    }
}

/** Fit the shrunk Gaussian on reference features (see the module comment). */
export function fitGaussian(f: ImageFeatures, options: { fittedOn: string; border?: number }): GaussianDensity {
  checkFeatures(f, "fitGaussian");
  const n = f.count,
    d = f.spec.size;
  if (n < 2) throw new Error(`fitGaussian: need at least 2 reference images, got ${n}`);
  const mean = new Float64Array(d),
    sd = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += f.data[r * d + j] / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) sd[j] += (f.data[r * d + j] - mean[j]) ** 2 / (n - 1);
  const kept: number[] = [],
    dropped: string[] = [];
  for (let j = 0; j < d; j++) {
    sd[j] = Math.sqrt(sd[j]);
    if (sd[j] > CONSTANT_SD * Math.max(1, Math.abs(mean[j]))) kept.push(j);
    else dropped.push(f.spec.names[j] ?? String(j));
  }
  const k = kept.length;
  if (k === 0)
    throw new Error(
      `fitGaussian: all ${d} features are constant over the ${n} reference images (layers ${f.spec.layers.join(", ")})`,
    );
  // standardised reference features, n×k
  const z = new Float64Array(n * k);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < k; c++) z[r * k + c] = (f.data[r * d + kept[c]] - mean[kept[c]]) / sd[kept[c]];
  const { cov, shrinkage, mu } = ledoitWolf(z, n, k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) cov[i * k + j] = (1 - shrinkage) * cov[i * k + j] + (i === j ? shrinkage * mu : 0);
  const cholesky = choleskyFactor(cov, k);
  return {
    version: DENSITY_VERSION,
    kind: "gaussian",
    layers: f.spec.layers,
    featureSize: d,
    border: options.border ?? 0,
    kept,
    dropped,
    count: n,
    fittedOn: options.fittedOn,
    shrinkage,
    center: Float64Array.from(kept, (j) => mean[j]),
    scale: Float64Array.from(kept, (j) => sd[j]),
    cholesky,
  };
}

/**
 * Ledoit–Wolf shrinkage of the covariance of centred-enough data (here standardised features): the empirical
 * covariance S = XᵀX / n (k×k), μ = trace(S)/k and ρ = min(1, β/δ) with δ = ‖S − μI‖²/k and
 * β = (1/n²) Σᵢ ‖xᵢxᵢᵀ − S‖² / k (Ledoit & Wolf 2004, "A well-conditioned estimator for large-dimensional
 * covariance matrices"; the same estimate as scikit-learn's `ledoit_wolf_shrinkage`).
 */
export function ledoitWolf(
  x: Float64Array,
  n: number,
  k: number,
): { cov: Float64Array; shrinkage: number; mu: number } {
  // column means (the data is standardised, so these are ~0; centre exactly anyway)
  const m = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) m[c] += x[r * k + c] / n;
  const xc = new Float64Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) xc[r * k + c] = x[r * k + c] - m[c];
  const cov = new Float64Array(k * k);
  const sq = new Float64Array(k * k); // Σᵢ xᵢⱼ² xᵢₗ²
  const row = new Float64Array(k),
    row2 = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      row[c] = xc[r * k + c];
      row2[c] = row[c] * row[c];
    }
    for (let i = 0; i < k; i++) {
      const a = row[i],
        a2 = row2[i],
        off = i * k;
      for (let j = i; j < k; j++) {
        cov[off + j] += a * row[j];
        sq[off + j] += a2 * row2[j];
      }
    }
  }
  let trace = 0,
    frob = 0,
    sqSum = 0;
  for (let i = 0; i < k; i++)
    for (let j = i; j < k; j++) {
      const v = cov[i * k + j] / n;
      cov[i * k + j] = v;
      cov[j * k + i] = v;
      const w = i === j ? 1 : 2;
      frob += w * v * v;
      sqSum += w * sq[i * k + j];
      if (i === j) trace += v;
    }
  const mu = trace / k;
  const delta = (frob - 2 * mu * trace + k * mu * mu) / k;
  // (1/n²) Σᵢ ‖xᵢxᵢᵀ − S‖² = (1/n²)(Σᵢ ‖xᵢ‖⁴) − ‖S‖²/n, with Σᵢ ‖xᵢ‖⁴ = Σⱼₗ Σᵢ xᵢⱼ² xᵢₗ²
  const beta = Math.min((sqSum / n - frob) / n / k, delta);
  const shrinkage = delta === 0 ? 1 : Math.max(0, beta / delta);
  return { cov, shrinkage, mu };
}

/** Lower-triangular L with A = L·Lᵀ (k×k row-major); throws when A is not positive definite. */
export function choleskyFactor(a: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j];
      for (let p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
      if (i === j) {
        if (!(s > 0)) throw new Error(`choleskyFactor: the covariance is not positive definite (pivot ${i} is ${s})`);
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / l[j * k + j];
    }
  }
  return l;
}

/** Check that a density reads the features `spec` describes (same layers, same size). */
export function checkDensityMatches(density: GaussianDensity, spec: FeatureSpec, where = "the density"): void {
  if (density.layers.join() !== spec.layers.join() || density.featureSize !== spec.size)
    throw new Error(
      `${where} was fitted on layers ${density.layers.join(", ")} (${density.featureSize} features), ` +
        "but the model gives " +
        `${spec.layers.join(", ")} (${spec.size} features): refit it (npm run promote) for this model`,
    );
}

/** L⁻¹ of a lower-triangular k×k factor (forward substitution, column by column), row-major. */
function invertLower(l: Float64Array, k: number): Float64Array {
  const inv = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    inv[c * k + c] = 1 / l[c * k + c];
    for (let i = c + 1; i < k; i++) {
      let s = 0;
      for (let p = c; p < i; p++) s += l[i * k + p] * inv[p * k + c];
      inv[i * k + c] = -s / l[i * k + i];
    }
  }
  return inv;
}

/** Per density, the whitening matrix (L⁻¹)ᵀ as a float32 tensor, made once (kept out of the saved file). */
const whitening = new WeakMap<GaussianDensity, tf.Tensor2D>();

/**
 * Mahalanobis distance of each image's features under the density: Float32Array(N). The standardised features Z
 * (N×k) are whitened in one matrix product, Y = Z·(L⁻¹)ᵀ, on the TensorFlow.js backend (float32; the distances
 * agree with the float64 triangular solve to about 1e-5 relative), and the distance is ‖y‖.
 */
export function mahalanobis(density: GaussianDensity, f: ImageFeatures): Float32Array {
  checkFeatures(f, "mahalanobis");
  if (f.spec.size !== density.featureSize) checkDensityMatches(density, f.spec);
  const k = density.kept.length,
    d = f.spec.size;
  let w = whitening.get(density);
  if (!w) {
    const inv = invertLower(density.cholesky, k);
    const t = new Float32Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) t[j * k + i] = inv[i * k + j];
    w = tf.keep(tf.tensor2d(t, [k, k]));
    whitening.set(density, w);
  }
  const z = new Float32Array(f.count * k);
  for (let r = 0; r < f.count; r++)
    for (let i = 0; i < k; i++) z[r * k + i] = (f.data[r * d + density.kept[i]] - density.center[i]) / density.scale[i];
  const dist = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.matMul(tf.tensor2d(z, [f.count, k]), w!)), 1)));
  const out = dist.dataSync() as Float32Array;
  dist.dispose();
  return Float32Array.from(out);
}

const b64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
function unb64(s: string, length: number, what: string): Float64Array {
  const buf = Buffer.from(s, "base64");
  if (buf.length !== length * 8) throw new Error(`${what} holds ${buf.length / 8} values, expected ${length}`);
  const out = new Float64Array(length);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Write `density.json` (or `file`) into a model folder, atomically. */
export function writeDensity(dir: string, density: GaussianDensity, file = DENSITY_FILE): void {
  const { center, scale, cholesky, ...rest } = density;
  writeFileAtomic(
    path.join(dir, file),
    JSON.stringify({ ...rest, center: b64(center), scale: b64(scale), cholesky: b64(cholesky) }),
  );
}

/**
 * Read a model folder's density, or null when it has none. With `spec` (the model's featureSpec) a density fitted on
 * other layers is refused, naming both.
 */
export function readDensity(dir: string, spec?: FeatureSpec, file = DENSITY_FILE): GaussianDensity | null {
  const p = path.join(dir, file);
  if (!fs.existsSync(p)) return null;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(p, "utf8"));
  } catch (e) {
    throw new Error(`${p} is not valid JSON (${errorText(e)}); refit it with npm run promote`);
  }
  if (j.version !== DENSITY_VERSION || j.kind !== "gaussian")
    throw new Error(
      `${p}: density version ${j.version} / kind ${j.kind} is not version ${DENSITY_VERSION} "gaussian"; ` +
        "refit it with npm run promote",
    );
  const kept = j.kept as number[];
  const k = kept.length;
  const density: GaussianDensity = {
    ...(j as unknown as GaussianDensity),
    center: unb64(j.center as string, k, `${p} center`),
    scale: unb64(j.scale as string, k, `${p} scale`),
    cholesky: unb64(j.cholesky as string, k * k, `${p} cholesky`),
  };
  if (spec) checkDensityMatches(density, spec, p);
  return density;
}
