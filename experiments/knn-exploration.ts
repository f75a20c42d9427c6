// Exploration, not a protocol candidate (README "Experiments", last row): k-nearest-neighbour distance (k = 3) to
// 3,000 train/ images + the adapt part's pseudo-normals, on block-mean thumbnails or on the committed AE's 4×6×128
// codes, with the label-free select-part figures: name, dims, proliv vs pool, synthetic on pool, selection value, time.
// Run: node --import tsx experiments/knn-exploration.ts   (output: knn-exploration.log)
import * as tf from "@tensorflow/tfjs";
import { loadModel } from "../lib/detector/checkpoint";
import { prepareWells } from "../lib/detector/dataset";
import { loadCached } from "../lib/detector/image-cache";
import { splitPool, pseudoNormalImages } from "../lib/detector/pool";
import { initBackend } from "../lib/tf/backend";
import { buildValidationSuite } from "../lib/detector/validation";
import { auroc } from "../lib/detector/metrics";
const shape: [number, number, number] = [32, 48, 3];
const per = 32 * 48 * 3;
function thumbs(x: Float32Array, by: number) {
  const n = x.length / per,
    th = 32 / by,
    tw = 48 / by,
    D = th * tw * 3;
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < 32; y++)
      for (let xx = 0; xx < 48; xx++)
        for (let c = 0; c < 3; c++)
          out[i * D + ((Math.floor(y / by) * tw + Math.floor(xx / by)) * 3 + c)] +=
            x[i * per + (y * 48 + xx) * 3 + c] / (by * by);
  return { v: out, D };
}
function knn(bank: Float32Array, q: Float32Array, D: number, k = 1) {
  const nb = bank.length / D,
    nq = q.length / D;
  const out = new Float32Array(nq);
  const best = new Float64Array(k);
  for (let i = 0; i < nq; i++) {
    best.fill(Infinity);
    for (let j = 0; j < nb; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) {
        const t = q[i * D + d] - bank[j * D + d];
        s += t * t;
      }
      if (s < best[k - 1]) {
        let p = k - 1;
        while (p > 0 && best[p - 1] > s) {
          best[p] = best[p - 1];
          p--;
        }
        best[p] = s;
      }
    }
    let m = 0;
    for (let t = 0; t < k; t++) m += best[t];
    out[i] = m / k;
  }
  return out;
}
async function codes(model: tf.LayersModel, x: Float32Array, layer: string) {
  const enc = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
  const n = x.length / per;
  const outs: Float32Array[] = [];
  let D = 0;
  for (let s = 0; s < n; s += 256) {
    const m = Math.min(256, n - s);
    const y = tf.tidy(() => {
      const t = enc.predict(tf.tensor4d(x.subarray(s * per, (s + m) * per), [m, 32, 48, 3])) as tf.Tensor;
      return t.reshape([m, -1]);
    });
    D = y.shape[1]!;
    outs.push((await y.data()) as Float32Array);
    y.dispose();
  }
  const v = new Float32Array(n * D);
  let o = 0;
  for (const a of outs) {
    v.set(a, o);
    o += a.length;
  }
  return { v, D };
}
(async () => {
  await initBackend();
  const model = await loadModel("models/wells-ae");
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
  // bank: a seeded 3000 of train + the adapt pseudo-normals
  const nTrain = ds.trainData.train.length / per;
  const step = Math.floor(nTrain / 3000);
  const bankImgs = new Float32Array((3000 + pseudo.length / per) * per);
  for (let i = 0; i < 3000; i++)
    bankImgs.set(ds.trainData.train.subarray(i * step * per, (i * step + 1) * per), i * per);
  bankImgs.set(pseudo, 3000 * per);
  const sets = { normals: suite.normals, proliv: suite.proliv, synthetic: suite.synthetic };
  const feats: Record<string, (x: Float32Array) => Promise<{ v: Float32Array; D: number }>> = {
    thumb4: async (x) => thumbs(x, 4),
    thumb2: async (x) => thumbs(x, 2),
    enc3: (x) => codes(model, x, "enc3"),
  };
  for (const [name, f] of Object.entries(feats)) {
    const t0 = Date.now();
    const bank = await f(bankImgs);
    const sc: Record<string, Float32Array> = {};
    for (const [k, x] of Object.entries(sets)) sc[k] = knn(bank.v, (await f(x)).v, bank.D, 3);
    const a = (pos: Float32Array) =>
      auroc([...Array(sc.normals.length).fill(0), ...Array(pos.length).fill(1)], [...sc.normals, ...pos]);
    const ap = a(sc.proliv),
      as = a(sc.synthetic);
    console.log(
      name,
      bank.D,
      ap.toFixed(4),
      as.toFixed(4),
      ((ap + as) / 2).toFixed(4),
      `${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
})();
