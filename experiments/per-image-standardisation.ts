// Experiment (README "Experiments"): per-image, per-channel standardisation (x - mean) / (4 std) + 0.5, clipped to
// [0, 1].
// Run: node --import tsx experiments/per-image-standardisation.ts 12
//   (writes scratch/norm-32x48; output: per-image-standardisation.log)
import { prepareWells } from "../lib/detector/dataset";
import { trainAutoencoder } from "../lib/detector/train";
import { initBackend } from "../lib/tf/backend";
import { loadCached } from "../lib/detector/image-cache";
import { reconstruct } from "../lib/detector/predict";
import { scoreBatch } from "../lib/detector/scores";
import { percentile } from "../lib/detector/thresholds";
import { buildValidationSuite, summarizeValidation } from "../lib/detector/validation";
function standardize(d: Float32Array, per: number, c: number) {
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length / per; i++)
    for (let k = 0; k < c; k++) {
      let s = 0,
        s2 = 0,
        n = per / c;
      for (let j = i * per + k; j < (i + 1) * per; j += c) {
        s += d[j];
        s2 += d[j] * d[j];
      }
      const m = s / n,
        sd = Math.sqrt(Math.max(s2 / n - m * m, 1e-8));
      for (let j = i * per + k; j < (i + 1) * per; j += c)
        out[j] = Math.min(1, Math.max(0, (d[j] - m) / (4 * sd) + 0.5));
    }
  return out;
}
(async () => {
  await initBackend("wasm");
  const size = { height: 32, width: 48, channels: 3 as const },
    shape: [number, number, number] = [32, 48, 3],
    per = 32 * 48 * 3;
  const ds = await prepareWells({ size });
  const td = {
    train: standardize(ds.trainData.train, per, 3),
    validation: { data: standardize(ds.trainData.validation.data, per, 3), labels: ds.trainData.validation.labels },
    shape,
  };
  const run = await trainAutoencoder(
    td,
    { runDir: "scratch/norm-32x48", epochs: Number(process.argv[2] ?? 10), patience: 4 },
    { onEpoch: (r) => console.log(JSON.stringify(r)) },
  );
  const suite = buildValidationSuite(td.validation, shape);
  console.log(JSON.stringify(await summarizeValidation(run.model, suite, shape, ["mse", "topKMean"])));
  const te = await loadCached(ds.list.test, size);
  const tx = standardize(te.data, per, 3);
  const rv = await reconstruct(run.model, td.validation.data, shape);
  const rt = await reconstruct(run.model, tx, shape);
  for (const s of ["mse", "topKMean"] as const) {
    const sv = scoreBatch(s, td.validation.data, rv, shape);
    const st = scoreBatch(s, tx, rt, shape);
    const normals = Array.from(sv).filter((_, i) => td.validation.labels[i] === 0);
    const q = [50, 75, 90, 95, 97.5, 99];
    console.log(s, "held-out normals", q.map((x) => percentile(normals, x).toExponential(2)).join(" "));
    console.log(s, "test unlabelled ", q.map((x) => percentile(Array.from(st), x).toExponential(2)).join(" "));
  }
})();
