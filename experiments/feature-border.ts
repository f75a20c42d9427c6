/**
 * Amendment A of PROTOCOL-3.md: the feature density of a model, fitted on the train part, with the statistics taken
 * over the whole map or over its centre (border 0, 0.125, 0.25 of each side left out), per layer group. Label-free:
 * AUROC of proliv spills vs held-out normals, proliv vs the pool's select images (unlabelled), and held-out normals vs
 * select images (how far the deployment images sit from the training normals). No test label is read.
 *
 *   node --import tsx experiments/feature-border.ts [model folder, default models/wells-ae] \
 *     > experiments/feature-border.log
 * (The amendment's figures came from the plain AE of protocol 2, the model folder before this stop's promotion:
 *  `git show 64ad06a:models/wells-ae/…`.)
 */
import { initBackend } from "../lib/tf/backend";
import { prepareWells } from "../lib/detector/dataset";
import { loadModel } from "../lib/detector/checkpoint";
import { imageFeatures, type ImageFeatures } from "../lib/detector/features";
import { fitGaussian, mahalanobis } from "../lib/detector/density";
import { gatherImages, splitPool } from "../lib/detector/pool";
import { loadCached } from "../lib/detector/image-cache";
import { auroc } from "../lib/detector/metrics";

const au = (neg: Float32Array, pos: Float32Array) =>
  auroc([...Array(neg.length).fill(0), ...Array(pos.length).fill(1)], [...neg, ...pos]).toFixed(4);

(async () => {
  await initBackend();
  const shape: [number, number, number] = [32, 48, 3];
  const per = 32 * 48 * 3;
  const ds = await prepareWells({ size: { height: 32, width: 48, channels: 3 } });
  const dir = process.argv[2] ?? "models/wells-ae";
  const model = await loadModel(dir);
  const lab = ds.trainData.validation.labels;
  const idx = (w: number) => Array.from(lab).flatMap((l, i) => (l === w ? [i] : []));
  const ref = gatherImages(ds.trainData.validation.data, per, idx(0)),
    pro = gatherImages(ds.trainData.validation.data, per, idx(1));
  const sel = (await loadCached(splitPool(ds.list.test).select, ds.size)).data; // images only
  console.log(
    `model ${dir}; ${ds.trainData.train.length / per} train, ${idx(0).length} held-out normals, ` +
      `${idx(1).length} proliv, ${sel.length / per} select images`,
  );
  for (const border of [0, 0.125, 0.25]) {
    const f = async (x: Float32Array) => imageFeatures(model, x, shape, { border });
    const [ft, fr, fp, fs] = [await f(ds.trainData.train), await f(ref), await f(pro), await f(sel)];
    for (const layers of [
      ["image"],
      ["image", "enc1"],
      ["enc1"],
      ["enc2"],
      ["enc3"],
      ["image", "enc1", "enc2", "enc3"],
    ]) {
      const cols = ft.spec.names.flatMap((n, i) => (layers.includes(n.split(".")[0]) ? [i] : []));
      const sub = (x: ImageFeatures): ImageFeatures => {
        const d = new Float64Array(x.count * cols.length);
        for (let r = 0; r < x.count; r++)
          cols.forEach((c, k) => (d[r * cols.length + k] = x.data[r * x.spec.size + c]));
        return {
          data: d,
          count: x.count,
          spec: { ...x.spec, size: cols.length, names: cols.map((c) => x.spec.names[c]) },
        };
      };
      const g = fitGaussian(sub(ft), { fittedOn: "train part", border });
      const [sr, sp, ss] = [mahalanobis(g, sub(fr)), mahalanobis(g, sub(fp)), mahalanobis(g, sub(fs))];
      console.log(
        `border ${border} ${layers.join("+").padEnd(24)} features ${String(g.kept.length).padStart(3)}  ` +
          `proliv vs held-out ${au(sr, sp)}  proliv vs select ${au(ss, sp)}  held-out vs select ${au(sr, ss)}`,
      );
    }
  }
})();
