/**
 * Saving and loading models as a folder holding `model.json` + `weights.bin` (the layout `model.save('file://dir')`
 * writes under tfjs-node), atomically: the folder is written beside its target and renamed into place, so a crash
 * mid-save leaves the previous checkpoint intact.
 *
 * Written here because the `file://` handler ships only with @tensorflow/tfjs-node, which is optional; a folder
 * saved by this module loads with `tf.loadLayersModel('file://dir/model.json')` under tfjs-node too.
 *
 *   await saveModel(model, "runs/r1/best");
 *   const model = await loadModel("runs/r1/best");
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as path from "node:path";
import { replaceDirAtomic, writeFileAtomic } from "../common/atomic";
import { errorText } from "../tf/worker-threads";
import type { ErrorStats } from "./scores";
// registers the custom layers (VaeSampling) so that any saved model loads
import "./model";

export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = artifacts.weightData
          ? Buffer.concat(
              (Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]).map((b) =>
                Buffer.from(b),
              ),
            )
          : Buffer.alloc(0);
        const json = {
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy,
          trainingConfig: artifacts.trainingConfig,
          userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), ...extra },
          weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
        };
        fs.writeFileSync(path.join(tmp, "weights.bin"), weights);
        fs.writeFileSync(path.join(tmp, "model.json"), JSON.stringify(json));
        return {
          modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.length },
        };
      }),
      { includeOptimizer: true },
    );
  });
}

/** Reads a folder written by `saveModel` (or by tfjs-node's `model.save('file://…')`). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, "model.json");
  if (!fs.existsSync(jsonPath))
    throw new Error(`no model at ${dir}: ${jsonPath} is missing (train one with \`npm run train\`)`);
  let json: { weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; [k: string]: unknown };
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
  } catch (e) {
    throw new Error(`${jsonPath} is not readable JSON (${(e as Error).message}): the checkpoint is damaged`);
  }
  const buffers = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new Error(`${file} is missing: the checkpoint is incomplete`);
      return fs.readFileSync(file);
    }),
  );
  const weightData = Buffer.concat(buffers);
  const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1 };
  const need = json.weightsManifest
    .flatMap((g) => g.weights)
    .reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (bytesPer[w.dtype ?? "float32"] ?? 4), 0);
  if (weightData.length !== need)
    throw new Error(
      `${path.join(dir, json.weightsManifest[0]?.paths[0] ?? "weights.bin")} holds ${weightData.length} bytes ` +
        `but model.json describes ${need} (truncated or damaged)`,
    );
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      trainingConfig: json.trainingConfig,
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  );
  return model;
}

/** The metadata stored with a checkpoint (model config, epoch, validation figures, preprocessing). */
export function readModelMetadata(dir: string): Record<string, unknown> {
  const jsonPath = path.join(dir, "model.json");
  if (!fs.existsSync(jsonPath)) throw new Error(`no model at ${dir}: ${jsonPath} is missing`);
  return JSON.parse(fs.readFileSync(jsonPath, "utf8")).userDefinedMetadata ?? {};
}

/** The file beside model.json that holds the reference error statistics of the zTopKMean score. */
export const ERROR_STATS_FILE = "error-stats.json";

/** Write `ErrorStats` (and a note on what they were fitted on) into a model folder, atomically. */
export function writeErrorStats(dir: string, stats: ErrorStats, fittedOn: string): void {
  writeFileAtomic(
    path.join(dir, ERROR_STATS_FILE),
    JSON.stringify({
      height: stats.height,
      width: stats.width,
      count: stats.count,
      fittedOn,
      mean: Array.from(stats.mean),
      sd: Array.from(stats.sd),
    }),
  );
}

/** The `ErrorStats` stored in a model folder, or null when it has none; a clear error when the file is damaged. */
export function readErrorStats(dir: string): (ErrorStats & { fittedOn: string }) | null {
  const file = path.join(dir, ERROR_STATS_FILE);
  if (!fs.existsSync(file)) return null;
  let j: { height: number; width: number; count: number; fittedOn: string; mean: number[]; sd: number[] };
  try {
    j = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${errorText(e)})`);
  }
  const pixels = j.height * j.width;
  if (!(Array.isArray(j.mean) && Array.isArray(j.sd) && j.mean.length === pixels && j.sd.length === pixels))
    throw new Error(`${file}: mean and sd must each hold ${j.height}×${j.width} = ${pixels} values`);
  return {
    height: j.height,
    width: j.width,
    count: j.count,
    fittedOn: j.fittedOn,
    mean: Float32Array.from(j.mean),
    sd: Float32Array.from(j.sd),
  };
}
