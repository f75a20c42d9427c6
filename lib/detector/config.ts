/**
 * The detector's config, defined once: input size and channels, model kind, blocks and filters, the validation split
 * (seed and holdout share), the score and the threshold rule. `npm run train` starts from `DETECTOR_CONFIG` and stores
 * the config it used in the model's metadata (`config`) and in the run's state, so that `npm run promote`,
 * `npm run experiment`, `npm run charts`, `npm run score` and the notebooks read the split and the size from the model
 * instead of restating them, and a resumed run with other options refuses, naming each (`split.holdout: 0.1 → 0.2`).
 *
 *   const config = { ...DETECTOR_CONFIG, filters: [16, 32, 64] };
 *   readDetectorConfig(readModelMetadata("models/wells-ae")).split   // { seed: 1, holdout: 0.1 }
 *   configDiff(DETECTOR_CONFIG, config)                               // ["filters: [32,64,128] → [16,32,64]"]
 */
import { BLOCK_KINDS, type BlockKind, DEFAULT_MODEL, MODEL_KINDS, type ModelKind } from "./model";
import { type ThresholdRuleName, THRESHOLD_RULES } from "./thresholds";

export interface DetectorConfig {
  height: number;
  width: number;
  channels: 1 | 3;
  kind: ModelKind;
  blocks: BlockKind;
  filters: number[];
  /** The validation split of train/: seed of the shuffle and the share of distinct normals held out. */
  split: { seed: number; holdout: number };
  /** The deployed score; null until `npm run promote` chooses it (experiments/PROTOCOL-3.md). */
  score: string | null;
  /** The rule of the deployed threshold. */
  threshold: ThresholdRuleName;
}

/** How long `npm run train` and notebook 03 train it by default (a run's length, not part of its config: a resume may
 * raise it). */
export const DETECTOR_EPOCHS = 8;

/** The project's detector (experiments/PROTOCOL-3.md's M1): BatchNorm + LeakyReLU autoencoder, 8 epochs, 32×48×3. */
export const DETECTOR_CONFIG: Readonly<DetectorConfig> = Object.freeze({
  height: DEFAULT_MODEL.height,
  width: DEFAULT_MODEL.width,
  channels: DEFAULT_MODEL.channels as 1 | 3,
  kind: DEFAULT_MODEL.kind ?? "ae",
  // BatchNorm + LeakyReLU blocks: what PROTOCOL-3 chose (lib/detector/model's own default stays the plain net)
  blocks: "bn-leaky",
  filters: [...DEFAULT_MODEL.filters],
  split: { seed: DEFAULT_MODEL.seed ?? 1, holdout: 0.1 },
  score: null,
  threshold: "checkedPool",
});

/** Each field as "name: value" text, nested fields dotted (`split.seed`). */
function flatten(x: object, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) Object.assign(out, flatten(v, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = JSON.stringify(v);
  }
  return out;
}

/** Each field that differs, as "name: was → now" (nested fields dotted): `configDiff(stored, requested)`. */
export function configDiff(was: object, now: object): string[] {
  const a = flatten(was);
  const b = flatten(now);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k}: ${a[k] ?? "unset"} → ${b[k] ?? "unset"}`);
}

/** A config's values checked (what, where and what is allowed); returns it. */
export function checkDetectorConfig(c: DetectorConfig, where = "detector config"): DetectorConfig {
  const bad = (what: string) => new Error(`${where}: ${what}`);
  for (const k of ["height", "width"] as const)
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw bad(`${k} must be a whole number ≥ 1, got ${c[k]}`);
  if (c.channels !== 1 && c.channels !== 3) throw bad(`channels must be 1 or 3, got ${c.channels}`);
  if (!MODEL_KINDS.includes(c.kind)) throw bad(`kind must be one of ${MODEL_KINDS.join(", ")}, got ${c.kind}`);
  if (!BLOCK_KINDS.includes(c.blocks)) throw bad(`blocks must be one of ${BLOCK_KINDS.join(", ")}, got ${c.blocks}`);
  if (!(Array.isArray(c.filters) && c.filters.length > 0 && c.filters.every((f) => Number.isInteger(f) && f >= 1)))
    throw bad(`filters must be whole numbers ≥ 1, got ${JSON.stringify(c.filters)}`);
  if (!(Number.isInteger(c.split?.seed) && c.split.seed >= 0))
    throw bad(`split.seed must be a whole number ≥ 0, got ${c.split?.seed}`);
  if (!(c.split.holdout >= 0 && c.split.holdout < 1))
    throw bad(`split.holdout must be in [0, 1), got ${c.split.holdout}`);
  if (!THRESHOLD_RULES.includes(c.threshold))
    throw bad(`threshold must be one of ${THRESHOLD_RULES.join(", ")}, got ${c.threshold}`);
  return c;
}

/**
 * The config a model folder's metadata holds. Models saved before the config existed (the fields were spread over
 * `shape`, `model`, `score`) get it rebuilt from those fields, with the split of the time (seed from the model's seed,
 * holdout 0.1: `npm run train`'s only default then) and `legacy: true`.
 */
export function readDetectorConfig(
  metadata: Record<string, unknown>,
  where = "model metadata",
): DetectorConfig & {
  legacy?: true;
} {
  if (metadata.config && typeof metadata.config === "object")
    return checkDetectorConfig({ ...DETECTOR_CONFIG, ...(metadata.config as DetectorConfig) }, `${where} config`);
  const shape = metadata.shape as number[] | undefined;
  if (!Array.isArray(shape) || shape.length !== 3) throw new Error(`${where}: no config and no input shape`);
  const model = (metadata.model ?? {}) as Partial<typeof DEFAULT_MODEL> & { kind?: ModelKind; blocks?: BlockKind };
  const config: DetectorConfig = {
    height: shape[0],
    width: shape[1],
    channels: shape[2] as 1 | 3,
    kind: model.kind ?? "ae",
    blocks: model.blocks ?? "plain",
    filters: model.filters ?? [...DEFAULT_MODEL.filters],
    split: { seed: model.seed ?? 1, holdout: 0.1 },
    score: typeof metadata.score === "string" ? metadata.score : null,
    threshold: "checkedPool",
  };
  return { ...checkDetectorConfig(config, where), legacy: true };
}
