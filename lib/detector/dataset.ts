/**
 * The spill detector's datasets in one call: list + split the wells, decode (cached) at the input size, and
 * assemble training and validation arrays. The test set is a separate call, made once, for the final report.
 *
 *   const ds = await prepareWells({ size: { height: 32, width: 48, channels: 3 } });
 *   await trainAutoencoder(ds.trainData, { runDir: "runs/r1" });
 *   const test = await loadTestSet(ds);   // final report only
 */
import { DETECTOR_CONFIG } from "./config";
import { type CachedTensorData, loadCached } from "./image-cache";
import { resolveData } from "../common/paths";
import { mulberry32, shuffleInPlace } from "../common/random";
import type { TrainData } from "./train";
import { type ImageSize, listWells, splitWells, type WellItem, type WellList, type WellSplit } from "./wells";

export interface PrepareOptions {
  /** Dataset folder (default: resolveData("wells")). */
  root?: string;
  size: ImageSize;
  holdoutFraction?: number;
  seed?: number;
  /** Use only this many training images (a seeded subset): the short CI/demo run. */
  trainLimit?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface PreparedWells {
  list: WellList;
  split: WellSplit;
  size: ImageSize;
  trainItems: WellItem[];
  validation: CachedTensorData;
  trainData: TrainData;
}

export async function prepareWells(options: PrepareOptions): Promise<PreparedWells> {
  const root = options.root ?? resolveData("wells");
  const list = listWells(root);
  const split = splitWells(list, {
    holdoutFraction: options.holdoutFraction ?? DETECTOR_CONFIG.split.holdout,
    seed: options.seed ?? DETECTOR_CONFIG.split.seed,
  });
  let trainItems = split.train;
  if (options.trainLimit && options.trainLimit < trainItems.length)
    trainItems = (shuffleInPlace([...trainItems], mulberry32(options.seed ?? 1)) as WellItem[]).slice(
      0,
      options.trainLimit,
    );
  const progress = (what: string) => (done: number, total: number) => options.onProgress?.(what, done, total);
  const train = await loadCached(trainItems, options.size, { onProgress: progress("train") });
  const validation = await loadCached(split.validation, options.size, { onProgress: progress("validation") });
  const c = options.size.channels;
  return {
    list,
    split,
    size: options.size,
    trainItems,
    validation,
    trainData: {
      train: train.data,
      validation: { data: validation.data, labels: validation.labels },
      shape: [options.size.height, options.size.width, c],
    },
  };
}

/** The labelled test set at the same input size. Its labels are for the final report only. */
export async function loadTestSet(
  prepared: Pick<PreparedWells, "list" | "size">,
  onProgress?: (done: number, total: number) => void,
) {
  return loadCached(prepared.list.test, prepared.size, { onProgress });
}
