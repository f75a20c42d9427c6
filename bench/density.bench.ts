/**
 * Feature-density speed (issue 10 targets), side by side in one run:
 *   - fitting: feature statistics of ~9,000 training images plus the Ledoit–Wolf Gaussian (target ≤ 30 s);
 *   - scoring: the reconstruction score alone against reconstruction + density and the fusion, on the same images
 *     (target: at most 10 % slower than reconstruction alone).
 * Uses the committed model and the course's training images when they are there, else a fresh default model and
 * random images of the same size.
 *
 *   npm run bench -- density
 *   BENCH_QUICK=1 npm run bench -- density     # 1,000 training images, 500 scored: checks that it runs (README test)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { prepareWells } from "../lib/detector/dataset";
import { availableScores, detectorScores, fitDetector, type DetectorScore } from "../lib/detector/detector";
import { loadModel } from "../lib/detector/checkpoint";
import { buildAutoencoder } from "../lib/detector/model";
import { mulberry32 } from "../lib/common/random";
import { initBackend } from "../lib/tf/backend";
import { projectRoot } from "../lib/common/paths";

async function main() {
  const backend = await initBackend();
  const shape: [number, number, number] = [32, 48, 3];
  const per = shape[0] * shape[1] * shape[2];
  const modelDir = path.join(projectRoot, "models", "wells-ae");
  const model = fs.existsSync(path.join(modelDir, "model.json")) ? await loadModel(modelDir) : buildAutoencoder({});
  let train: Float32Array, reference: Float32Array, source: string;
  try {
    const ds = await prepareWells({ size: { height: 32, width: 48, channels: 3 } });
    train = process.env.BENCH_QUICK ? ds.trainData.train.subarray(0, 1000 * per) : ds.trainData.train;
    reference = ds.validation.data.subarray(0, ds.validation.labels.filter((l) => l === 0).length * per);
    source = "the course's train/ (decoded, from the image cache)";
  } catch {
    const rand = mulberry32(1);
    train = Float32Array.from({ length: (process.env.BENCH_QUICK ? 1000 : 9003) * per }, () => rand());
    reference = Float32Array.from({ length: 900 * per }, () => rand());
    source = "random images (course data not found)";
  }
  const n = train.length / per;
  console.log(
    `backend ${backend}; model ${fs.existsSync(modelDir) ? modelDir : "fresh default"}; ` +
      `${n} training images from ${source}`,
  );
  const adapt = reference.subarray(0, Math.floor(reference.length / per / 2) * per);
  let t = performance.now();
  const det = await fitDetector(model, shape, { train, reference, adapt: null });
  const fitSeconds = (performance.now() - t) / 1000;
  console.log(
    `fit (features of ${n} images + Gaussian + fusion scales): ${fitSeconds.toFixed(2)} s ` +
      `(target ≤ 30 s) ${fitSeconds <= 30 ? "✔" : "✖"}`,
  );
  const withPool = await fitDetector(model, shape, { train: train.subarray(0, 2000 * per), reference, adapt });
  const images = train.subarray(0, Math.min(n, process.env.BENCH_QUICK ? 500 : 3000) * per);
  const m = images.length / per;
  const time = async (names: DetectorScore[]) => {
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      t = performance.now();
      await detectorScores(withPool, images, names);
      best = Math.min(best, (performance.now() - t) / 1000);
    }
    return best;
  };
  await time(["zTopKMean"]); // warm-up
  const rows: [string, DetectorScore[]][] = [
    ["reconstruction alone (zTopKMean)", ["zTopKMean"]],
    ["reconstruction + density", ["zTopKMean", "density"]],
    ["fusionSum (zTopKMean + density)", ["fusionSum"]],
    ["every score", availableScores(withPool)],
  ];
  const base = await time(rows[0][1]);
  console.log(`scoring ${m} images, best of 3:`);
  for (const [label, names] of rows) {
    const s = names === rows[0][1] ? base : await time(names);
    console.log(
      `  ${label.padEnd(36)} ${s.toFixed(3)} s  ${(m / s).toFixed(0)} img/s  ` +
        `${(s / base).toFixed(3)}× reconstruction alone`,
    );
  }
  void det;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
