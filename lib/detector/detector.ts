/**
 * The spill detector as one object: a trained (V)AE plus the reference parts its scores need, fitted without labels,
 * saved beside the model and loaded by `npm run score` (experiments/PROTOCOL-3.md).
 *
 *   reconstruction scores  mse, maxSmoothed, topKMean, ssim (lib/scores), zTopKMean (+ error-stats.json)
 *   density                Mahalanobis distance of the image's feature statistics (lib/features, lib/density) under a
 *                          Gaussian fitted on the training normals (density.json)
 *   densityAdapted         the same, fitted on the training normals plus the likely-normal images of an unlabelled
 *                          pool (density-adapted.json)
 *   fusionSum, fusionMax   zTopKMean (topKMean without error statistics) and density, each as a robust z-score on
 *                          the reference normals, summed or maxed (lib/fusion; fusion.json)
 *
 *   const det = await fitDetector(model, shape, { train, reference: heldOutNormals, adapt: poolAdaptImages });
 *   saveDetectorParts("models/wells-ae", det);            // error-stats.json, density*.json, fusion.json
 *   const loaded = await loadDetector("models/wells-ae"); // model + parts, checked against the model's layers
 *   const s = await detectorScores(loaded, images, ["density", "fusionSum"]);   // Record<name, Float32Array>
 */
import type * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../common/atomic";
import { loadModel, readErrorStats, readModelMetadata, writeErrorStats } from "./checkpoint";
import {
  checkDensityMatches,
  fitGaussian,
  mahalanobis,
  readDensity,
  writeDensity,
  type GaussianDensity,
} from "./density";
import {
  DEFAULT_FEATURE_BORDER,
  featureSpec,
  imageFeatures,
  reconstructWithFeatures,
  type FeatureSpec,
  type ImageFeatures,
} from "./features";
import { fitFusion, fuse, type Fusion } from "./fusion";
import { pseudoNormalIndices, poolErrorStats } from "./pool";
import { reconstruct } from "./predict";
import { SCORE_NAMES, scoreBatch, type ErrorStats, type ScoreName } from "./scores";
import { poolSuite, summarizeScored, type ScoreSummary } from "./validation";
import type { OnnxRunner } from "./onnx-runtime";

export const DETECTOR_SCORES = [...SCORE_NAMES, "density", "densityAdapted", "fusionSum", "fusionMax"] as const;
export type DetectorScore = (typeof DETECTOR_SCORES)[number];
const FEATURE_SCORES: readonly DetectorScore[] = ["density", "densityAdapted", "fusionSum", "fusionMax"];

const ADAPTED_DENSITY_FILE = "density-adapted.json";
const FUSION_FILE = "fusion.json";
/** Share of the pool's adapt images kept as pseudo-normals for the adapted density (PROTOCOL-3.md). */
const ADAPT_KEEP = 0.9;

export interface Detector {
  model: tf.LayersModel;
  shape: [number, number, number];
  spec: FeatureSpec;
  errorStats: ErrorStats | null;
  density: GaussianDensity | null;
  densityAdapted: GaussianDensity | null;
  /** Reference scales of the two fused scores (rule "sum"; fusionMax uses the same scales). */
  fusion: Fusion | null;
  /** When set, the forward passes run in onnxruntime (lib/onnx-runtime) instead of tfjs; the scores are the same. */
  onnx?: OnnxRunner | null;
}

/** The scores this detector can compute with the parts it has. */
export function availableScores(d: Detector): DetectorScore[] {
  return DETECTOR_SCORES.filter((s) =>
    s === "zTopKMean"
      ? !!d.errorStats
      : s === "density"
        ? !!d.density
        : s === "densityAdapted"
          ? !!d.densityAdapted
          : s.startsWith("fusion")
            ? !!d.fusion
            : true,
  );
}

export function isDetectorScore(name: string): name is DetectorScore {
  return (DETECTOR_SCORES as readonly string[]).includes(name);
}

/** The reconstruction score that the fusion pairs with the density: zTopKMean when error statistics exist. */
const fusedErrorScore = (d: Pick<Detector, "errorStats">): ScoreName => (d.errorStats ? "zTopKMean" : "topKMean");

/**
 * Every named score of every image (N×H×W×C floats): one forward pass gives the reconstructions and the features
 * (in tfjs or, with `d.onnx`, in onnxruntime), whatever the number of scores; feature-only scores run the encoder
 * alone.
 */
export async function detectorScores<N extends DetectorScore>(
  d: Detector,
  images: Float32Array,
  names: readonly N[],
): Promise<Record<N, Float32Array>> {
  const have = availableScores(d);
  for (const n of names) {
    if (!isDetectorScore(n)) throw new Error(`unknown score "${n}"; choose from ${DETECTOR_SCORES.join(", ")}`);
    if (!have.includes(n))
      throw new Error(
        `score "${n}" needs a part this detector lacks (it can compute ${have.join(", ")}); ` +
          "run npm run promote to fit it",
      );
  }
  const out = {} as Record<N, Float32Array>;
  const needFusion = names.some((n) => n.startsWith("fusion"));
  const errorNames = new Set<ScoreName>(
    names.filter((n): n is N & ScoreName => (SCORE_NAMES as readonly string[]).includes(n)),
  );
  if (needFusion) errorNames.add(fusedErrorScore(d));
  const errorScores: Partial<Record<ScoreName, Float32Array>> = {};
  const needFeatures = names.some((n) => FEATURE_SCORES.includes(n));
  let features: ImageFeatures | null = null;
  let recon: Float32Array | null = null;
  if (d.onnx && (errorNames.size || needFeatures)) {
    const r = await d.onnx.run(images, d.shape, { border: d.density?.border ?? 0, features: needFeatures });
    recon = r.reconstructions;
    features = r.features;
  } else if (errorNames.size && needFeatures) {
    // one forward pass for both (lib/features reconstructWithFeatures)
    ({ reconstructions: recon, features } = await reconstructWithFeatures(d.model, images, d.shape, {
      border: d.density!.border,
    }));
  } else if (errorNames.size) recon = await reconstruct(d.model, images, d.shape);
  for (const s of errorNames)
    errorScores[s] = scoreBatch(s, images, recon!, d.shape, { errorStats: d.errorStats ?? undefined });
  let densityScores: Float32Array | null = null;
  if (needFeatures) {
    features ??= await imageFeatures(d.model, images, d.shape, { border: d.density!.border });
    if (names.includes("density" as N) || needFusion) densityScores = mahalanobis(d.density!, features);
    if (names.includes("densityAdapted" as N)) out["densityAdapted" as N] = mahalanobis(d.densityAdapted!, features);
  }
  for (const n of names) {
    if (n in errorScores) out[n] = errorScores[n as ScoreName]!;
    else if (n === "density") out[n] = densityScores!;
    else if (n === "fusionSum" || n === "fusionMax") {
      const parts = { [fusedErrorScore(d)]: errorScores[fusedErrorScore(d)]!, density: densityScores! };
      out[n] = fuse({ ...d.fusion!, rule: n === "fusionSum" ? "sum" : "max" }, parts);
    }
  }
  return out;
}

export interface FitDetectorData {
  /** The normal images the model trained on: the density's reference. */
  train: Float32Array;
  /** Held-out reference normals, never trained on: the fusion's robust scales. */
  reference: Float32Array;
  /**
   * Unlabelled deployment images (the pool's adapt part), or null: zTopKMean's error statistics, the adapted
   * density.
   */
  adapt: Float32Array | null;
  /** The model trained on the adapt images (they cannot serve as unseen references then). */
  trainedOnPool?: boolean;
  /** Progress messages ("fitting the density on 9,003 images…"). */
  onMessage?: (text: string) => void;
  /** Words saying what `train` and `adapt` are, stored in the files. */
  trainName?: string;
  adaptName?: string;
  /** Feature border (lib/features); default DEFAULT_FEATURE_BORDER. */
  border?: number;
}

/** Fit every reference part of the detector (no labels are read). */
export async function fitDetector(
  model: tf.LayersModel,
  shape: [number, number, number],
  data: FitDetectorData,
): Promise<Detector> {
  const say = data.onMessage ?? (() => {});
  const per = shape[0] * shape[1] * shape[2];
  const spec = featureSpec(model);
  const usePool = data.adapt !== null && !data.trainedOnPool;
  say(
    `features of ${data.train.length / per} training images (${spec.size} per image, layers ${spec.layers.join(", ")})`,
  );
  const border = data.border ?? DEFAULT_FEATURE_BORDER;
  const trainFeatures = await imageFeatures(model, data.train, shape, { border });
  const density = fitGaussian(trainFeatures, { fittedOn: data.trainName ?? "the model's training images", border });
  say(
    `density: ${density.kept.length} features (${density.dropped.length} constant, dropped), ` +
      `Ledoit–Wolf shrinkage ${density.shrinkage.toFixed(4)}`,
  );
  let errorStats: ErrorStats | null = null;
  let densityAdapted: GaussianDensity | null = null;
  if (usePool) {
    errorStats = await poolErrorStats(model, data.adapt!, shape);
    const adaptFeatures = await imageFeatures(model, data.adapt!, shape, { border });
    const keep = pseudoNormalIndices(mahalanobis(density, adaptFeatures), ADAPT_KEEP);
    const d = spec.size,
      n = trainFeatures.count;
    const merged = new Float64Array((n + keep.length) * d);
    merged.set(trainFeatures.data);
    keep.forEach((j, k) => merged.set(adaptFeatures.data.subarray(j * d, (j + 1) * d), (n + k) * d));
    densityAdapted = fitGaussian(
      { data: merged, count: n + keep.length, spec },
      {
        border,
        fittedOn:
          `${data.trainName ?? "training images"} + ${keep.length} pseudo-normals ` +
          `(lowest ${ADAPT_KEEP * 100} % by density) of ${data.adaptName ?? "the unlabelled pool"}`,
      },
    );
    say(`adapted density: + ${keep.length} of ${adaptFeatures.count} pool images`);
  }
  const partial: Detector = { model, shape, spec, errorStats, density, densityAdapted, fusion: null };
  const errorScore = fusedErrorScore(partial);
  const ref = await detectorScores(partial, data.reference, [errorScore, "density"] as DetectorScore[]);
  partial.fusion = fitFusion(
    { [errorScore]: ref[errorScore], density: ref.density },
    "sum",
    `${data.reference.length / per} held-out reference normals`,
  );
  return partial;
}

/** Write the detector's reference parts beside its model.json (each file atomically). */
export function saveDetectorParts(
  dir: string,
  d: Detector,
  errorStatsFittedOn = "pseudo-normals of the deployment pool's adapt part (lowest 90 % by topKMean)",
): void {
  if (d.errorStats) writeErrorStats(dir, d.errorStats, errorStatsFittedOn);
  if (d.density) writeDensity(dir, d.density);
  if (d.densityAdapted) writeDensity(dir, d.densityAdapted, ADAPTED_DENSITY_FILE);
  if (d.fusion) writeFileAtomic(path.join(dir, FUSION_FILE), JSON.stringify(d.fusion, null, 1));
}

/** A model folder as a detector: the model and whichever parts are saved beside it, checked against its layers. */
export async function loadDetector(dir: string): Promise<Detector & { metadata: Record<string, unknown> }> {
  const metadata = readModelMetadata(dir);
  const model = await loadModel(dir);
  const shape = model.inputs[0].shape.slice(1) as [number, number, number];
  const spec = featureSpec(model);
  const density = readDensity(dir, spec);
  const densityAdapted = readDensity(dir, spec, ADAPTED_DENSITY_FILE);
  for (const [file, dens] of [
    ["density.json", density],
    [ADAPTED_DENSITY_FILE, densityAdapted],
  ] as const)
    if (dens) checkDensityMatches(dens, spec, path.join(dir, file));
  const fusionPath = path.join(dir, FUSION_FILE);
  const fusion = fs.existsSync(fusionPath) ? (JSON.parse(fs.readFileSync(fusionPath, "utf8")) as Fusion) : null;
  return { model, shape, spec, errorStats: readErrorStats(dir), density, densityAdapted, fusion, metadata };
}

export interface DetectorPoolSummary extends ScoreSummary<DetectorScore> {
  /** Mean of proliv-vs-pool and synthetic-on-pool AUROC: the selection value of PROTOCOL-2/3. */
  selection: number;
}

/**
 * The label-free pool validation of PROTOCOL-3.md for any detector score: proliv spills against half of the
 * unlabelled pool images, synthetic defects (every kind of lib/synthetic) on the other half against the first.
 * Without a pool, pass the held-out normals as `pool`; without known anomalies (`proliv` empty), the selection value
 * is the synthetic AUROC alone (aurocProliv is then NaN).
 */
export async function detectorPoolValidation(
  d: Detector,
  pool: Float32Array,
  proliv: Float32Array,
  names: readonly DetectorScore[],
  options: { seed?: number } = {},
): Promise<DetectorPoolSummary[]> {
  const suite = poolSuite(pool, proliv, d.shape, options);
  const sets = {
    normals: await detectorScores(d, suite.normals, names),
    proliv: await detectorScores(d, suite.proliv, names),
    synthetic: await detectorScores(d, suite.synthetic, names),
  };
  // without known anomalies the selection value is the synthetic AUROC alone
  const hasProliv = proliv.length > 0;
  return summarizeScored(names, sets, suite.syntheticKinds).map((r) => ({
    ...r,
    selection: hasProliv ? (r.aurocProliv + r.aurocSynthetic) / 2 : r.aurocSynthetic,
  }));
}
