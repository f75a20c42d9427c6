// Exploration behind experiments/PROTOCOL-2.md amendment A (README "Experiments", row A): candidate scores of the
// committed model on the pool's select part, label-free — proliv vs pool AUROC, synthetic-on-pool AUROC, their mean.
// zTopPool = zTopKMean with the adapt part's pseudo-normals as reference (0.5 % / 1 % / 2 % / 5 % of pixels),
// zTopHeld = the same with held-out train/ normals; mahaThumb* = Mahalanobis distance of block-mean thumbnails.
// Run: node --import tsx experiments/score-candidates.ts [modelDir]   (output: score-candidates.log)
import { loadModel } from "../lib/detector/checkpoint";
import { prepareWells } from "../lib/detector/dataset";
import { loadCached } from "../lib/detector/image-cache";
import { splitPool, pseudoNormalImages } from "../lib/detector/pool";
import { reconstruct } from "../lib/detector/predict";
import { scoreBatch, errorMap } from "../lib/detector/scores";
import { initBackend } from "../lib/tf/backend";
import { buildValidationSuite } from "../lib/detector/validation";
import { auroc } from "../lib/detector/metrics";
const shape: [number, number, number] = [32, 48, 3];
const per = 32 * 48 * 3,
  P = 32 * 48;
function maps(x: Float32Array, r: Float32Array) {
  const n = x.length / per;
  const out = new Float32Array(n * P);
  for (let i = 0; i < n; i++)
    out.set(errorMap(x.subarray(i * per, (i + 1) * per), r.subarray(i * per, (i + 1) * per), shape), i * P);
  return out;
}
function pixStats(m: Float32Array) {
  const n = m.length / P;
  const mu = new Float64Array(P),
    sd = new Float64Array(P);
  for (let i = 0; i < n; i++) for (let p = 0; p < P; p++) mu[p] += m[i * P + p] / n;
  for (let i = 0; i < n; i++) for (let p = 0; p < P; p++) sd[p] += (m[i * P + p] - mu[p]) ** 2 / n;
  for (let p = 0; p < P; p++) sd[p] = Math.sqrt(sd[p]);
  return { mu, sd };
}
function zTop(m: Float32Array, st: { mu: Float64Array; sd: Float64Array }, frac = 0.01) {
  const n = m.length / P;
  const k = Math.ceil(frac * P);
  const out = new Float32Array(n);
  const eps = 1e-4;
  const tmp = new Float32Array(P);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < P; p++) tmp[p] = (m[i * P + p] - st.mu[p]) / (st.sd[p] + eps);
    tmp.sort();
    let s = 0;
    for (let j = P - k; j < P; j++) s += tmp[j];
    out[i] = s / k;
  }
  return out;
}
function thumbs(x: Float32Array, by = 8) {
  const n = x.length / per,
    th = 32 / by,
    tw = 48 / by,
    D = th * tw * 3;
  const out = new Float64Array(n * D);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < 32; y++)
      for (let xx = 0; xx < 48; xx++)
        for (let c = 0; c < 3; c++)
          out[i * D + ((Math.floor(y / by) * tw + Math.floor(xx / by)) * 3 + c)] +=
            x[i * per + (y * 48 + xx) * 3 + c] / (by * by);
  return { v: out, D };
}
function gaussFit(v: Float64Array, D: number, shrink = 0.01) {
  const n = v.length / D;
  const mu = new Float64Array(D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mu[d] += v[i * D + d] / n;
  const C = Array.from({ length: D }, () => new Float64Array(D));
  for (let i = 0; i < n; i++)
    for (let a = 0; a < D; a++) {
      const da = v[i * D + a] - mu[a];
      for (let b = 0; b < D; b++) C[a][b] += (da * (v[i * D + b] - mu[b])) / n;
    }
  let tr = 0;
  for (let a = 0; a < D; a++) tr += C[a][a];
  for (let a = 0; a < D; a++) C[a][a] += (shrink * tr) / D; // invert (Gauss-Jordan)
  const A = C.map((r, i) => {
    const row = new Float64Array(2 * D);
    row.set(r);
    row[D + i] = 1;
    return row;
  });
  for (let i = 0; i < D; i++) {
    let p = i;
    for (let r = i + 1; r < D; r++) if (Math.abs(A[r][i]) > Math.abs(A[p][i])) p = r;
    [A[i], A[p]] = [A[p], A[i]];
    const pv = A[i][i];
    for (let j = 0; j < 2 * D; j++) A[i][j] /= pv;
    for (let r = 0; r < D; r++)
      if (r !== i) {
        const f = A[r][i];
        if (f) for (let j = 0; j < 2 * D; j++) A[r][j] -= f * A[i][j];
      }
  }
  const inv = A.map((r) => r.slice(D));
  return { mu, inv };
}
function maha(v: Float64Array, D: number, g: { mu: Float64Array; inv: Float64Array[] }) {
  const n = v.length / D;
  const out = new Float32Array(n);
  const d = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < D; a++) d[a] = v[i * D + a] - g.mu[a];
    let s = 0;
    for (let a = 0; a < D; a++) {
      let t = 0;
      for (let b = 0; b < D; b++) t += g.inv[a][b] * d[b];
      s += d[a] * t;
    }
    out[i] = s;
  }
  return out;
}
function ranks(ref: Float32Array, x: Float32Array) {
  const s = Float32Array.from(ref).sort();
  return x.map((v) => {
    let lo = 0,
      hi = s.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (s[m] < v) lo = m + 1;
      else hi = m;
    }
    return lo / s.length;
  });
}
(async () => {
  await initBackend();
  const model = await loadModel(process.argv[2] ?? "models/wells-ae");
  const ds = await prepareWells({ size: { height: 32, width: 48, channels: 3 } });
  const pool = splitPool(ds.list.test);
  const select = await loadCached(pool.select, ds.size),
    adapt = await loadCached(pool.adapt, ds.size);
  const labels = new Uint8Array(select.data.length / per + ds.list.spill.length);
  labels.fill(1, select.data.length / per);
  const val = ds.trainData.validation;
  const prolivData = val.data.subarray(val.labels.indexOf(1) * per);
  const all = new Float32Array(select.data.length + prolivData.length);
  all.set(select.data);
  all.set(prolivData, select.data.length);
  const suite = buildValidationSuite({ data: all, labels }, shape);
  const pseudo = (await pseudoNormalImages(model, adapt.data, shape, "topKMean", 0.9)).images;
  const ref = await reconstruct(model, pseudo, shape);
  const heldOut = val.data.subarray(0, val.labels.indexOf(1) * per);
  const refH = await reconstruct(model, heldOut, shape);
  const stA = pixStats(maps(pseudo, ref)),
    stH = pixStats(maps(heldOut, refH));
  const trainAndPseudo = new Float32Array(ds.trainData.train.length + pseudo.length);
  trainAndPseudo.set(ds.trainData.train);
  trainAndPseudo.set(pseudo, ds.trainData.train.length);
  const sets: Record<string, Record<string, Float32Array>> = {};
  for (const by of [8, 4]) {
    const t = thumbs(trainAndPseudo, by);
    const g = gaussFit(t.v, t.D);
    for (const [k, x] of Object.entries({ normals: suite.normals, proliv: suite.proliv, synthetic: suite.synthetic }))
      (sets[k] ??= {})[`mahaThumb${by}`] = maha(thumbs(x, by).v, t.D, g);
    (sets.ref ??= {})[`mahaThumb${by}`] = maha(thumbs(pseudo, by).v, t.D, g);
  }
  for (const [k, x] of Object.entries({
    normals: suite.normals,
    proliv: suite.proliv,
    synthetic: suite.synthetic,
    ref: pseudo,
  })) {
    const r = await reconstruct(model, x, shape);
    const m = maps(x, r);
    sets[k] ??= {};
    sets[k].mse = scoreBatch("mse", x, r, shape);
    sets[k].topKMean = scoreBatch("topKMean", x, r, shape);
    sets[k].zTopPool = zTop(m, stA);
    sets[k].zTop05Pool = zTop(m, stA, 0.005);
    sets[k].zTop2Pool = zTop(m, stA, 0.02);
    sets[k].zTopHeld = zTop(m, stH);
    sets[k].zTop5Pool = zTop(m, stA, 0.05);
  }
  for (const k of ["normals", "proliv", "synthetic"]) {
    const a = ranks(sets.ref.zTopPool, sets[k].zTopPool),
      b = ranks(sets.ref.mahaThumb4, sets[k].mahaThumb4);
    sets[k].rankZMaha4 = a.map((v, i) => v + b[i]);
    sets[k].maxZMaha4 = a.map((v, i) => Math.max(v, b[i]));
  }
  for (const s of Object.keys(sets.normals)) {
    const neg = sets.normals[s];
    const a = (pos: Float32Array) =>
      auroc([...Array(neg.length).fill(0), ...Array(pos.length).fill(1)], [...neg, ...pos]);
    const ap = a(sets.proliv[s]),
      as = a(sets.synthetic[s]);
    console.log(s.padEnd(12), ap.toFixed(4), as.toFixed(4), ((ap + as) / 2).toFixed(4));
  }
})();
