/**
 * Command-line flags for the model size, shared by the benchmarks (bench/profile.ts, bench/train-speed.bench.ts,
 * bench/train-parallel.bench.ts).
 *
 *   const cfg = modelArgs(process.argv.slice(2), { ...DEFAULT_MODEL, batch: 64 });
 */
import type { AutoencoderConfig } from "../lib/detector/model";

/**
 * Model size flags shared by the benchmarks: --height --width --channels --filters 32,64,128 --batch, or --preset
 * small.
 */
export function modelArgs(
  argv: string[],
  defaults: AutoencoderConfig & { batch: number },
): AutoencoderConfig & { batch: number } {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`--${name} needs a value`);
    return v;
  };
  const int = (name: string, fallback: number) => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const preset = get("preset");
  let base = { ...defaults };
  if (preset === "small") base = { ...base, height: 64, width: 64, channels: 1, filters: [16, 32, 64], batch: 32 };
  else if (preset !== undefined && preset !== "default")
    throw new Error(`--preset must be "small" or "default", got "${preset}"`);
  const filtersArg = get("filters");
  const filters = filtersArg === undefined ? base.filters : filtersArg.split(",").map((f) => Number(f));
  if (filters.some((f) => !Number.isInteger(f) || f <= 0))
    throw new Error(`--filters must be positive integers separated by commas, got "${filtersArg}"`);
  return {
    ...base,
    height: int("height", base.height),
    width: int("width", base.width),
    channels: int("channels", base.channels),
    filters,
    batch: int("batch", base.batch),
  };
}
