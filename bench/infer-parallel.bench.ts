/**
 * Inference speed of the project's autoencoder (lib/model.ts defaults: 32×48×3, filters 32/64/128): single-thread
 * `reconstruct` (lib/predict.ts) against `ReconstructPool` (lib/tf/parallel-reconstruct.ts) with 1, 2, … workers.
 *
 *   node --import tsx bench/infer-parallel.bench.ts                          # 4096 images, batch 256, workers 1,2
 *   node --import tsx bench/infer-parallel.bench.ts --images 8192 --batch 128 --workers 1,2,4 --reps 3
 *   npm run bench -- infer-parallel
 *
 * The model (random weights; speed does not depend on them) is saved to a temporary folder, which the pool's
 * workers load. Every method gets one warm-up call (a batch per worker) before it is timed on the same random
 * images; with --reps N the best of N timed calls counts. "vs 1 thread" is the speed-up over single-thread
 * `reconstruct` in this process; "max |diff|" checks each pool against it. Wall-clock figures: on a machine whose
 * cores are busy with other work the workers wait for a core, so compare them with the load average printed above
 * the table (tfjs-wasm runs one thread per worker; a pool cannot go faster than the free cores allow).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../lib/tf/backend";
import { buildAutoencoder, DEFAULT_MODEL } from "../lib/detector/model";
import { saveModel } from "../lib/detector/checkpoint";
import { reconstruct } from "../lib/detector/predict";
import { ReconstructPool } from "../lib/detector/parallel-reconstruct";

const argv = process.argv.slice(2); // flags this benchmark does not know (bench/index.ts passes them all) are ignored
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const count = Number(flag("images") ?? 4096);
const batch = Number(flag("batch") ?? 256);
const reps = Number(flag("reps") ?? 1);
const workerCounts = (flag("workers") ?? "1,2").split(",").map(Number);
for (const [name, v] of [
  ["images", count],
  ["batch", batch],
  ["reps", reps],
  ...workerCounts.map((w) => ["workers", w] as const),
] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number ≥ 1, got ${v}`);

interface Row {
  method: string;
  seconds: number;
  perSecond: number;
  diff?: number;
  note?: string;
}

/** Best wall time (seconds) of `reps` calls of f, and its last result. */
async function best(f: () => Promise<Float32Array>): Promise<{ seconds: number; out: Float32Array }> {
  let seconds = Infinity;
  let out = new Float32Array(0);
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    out = await f();
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
  }
  return { seconds, out };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const shape: [number, number, number] = [DEFAULT_MODEL.height, DEFAULT_MODEL.width, DEFAULT_MODEL.channels];
  const per = shape[0] * shape[1] * shape[2];
  const model = buildAutoencoder();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "infer-parallel-bench-"));
  try {
    await saveModel(model, path.join(dir, "model"));
    const images = new Float32Array(count * per);
    for (let i = 0; i < images.length; i++) images[i] = Math.random();
    console.log(
      `model ${shape.join("×")}, filters ${DEFAULT_MODEL.filters.join("/")}; ` +
        `${count} images, batch ${batch}, best of ${reps}; ` +
        `backend ${backend}; ${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(2)} (1 min)`,
    );

    const rows: Row[] = [];
    await reconstruct(model, images.subarray(0, batch * per), shape, batch); // warm-up
    const single = await best(() => reconstruct(model, images, shape, batch));
    rows.push({ method: "reconstruct (1 thread)", seconds: single.seconds, perSecond: count / single.seconds });

    for (const workers of workerCounts) {
      const t0 = performance.now();
      const pool = await ReconstructPool.open(path.join(dir, "model"), { workers });
      const openSeconds = (performance.now() - t0) / 1000;
      try {
        await pool.reconstruct(images.subarray(0, Math.min(count, batch * workers) * per), shape, batch); // warm-up
        const r = await best(() => pool.reconstruct(images, shape, batch));
        rows.push({
          method: `ReconstructPool, ${workers} worker${workers > 1 ? "s" : ""}`,
          seconds: r.seconds,
          perSecond: count / r.seconds,
          diff: maxAbsDiff(r.out, single.out),
          note: `open ${openSeconds.toFixed(2)} s`,
        });
      } finally {
        await pool.close();
      }
    }

    const base = rows[0].perSecond;
    const table = [
      ["method", "seconds", "img/s", "vs 1 thread", "max |diff|", ""],
      ...rows.map((r) => [
        r.method,
        r.seconds.toFixed(2),
        r.perSecond.toFixed(0),
        `×${(r.perSecond / base).toFixed(2)}`,
        r.diff === undefined ? "" : r.diff.toExponential(1),
        r.note ?? "",
      ]),
    ];
    const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
    for (const row of table)
      console.log(
        row
          .map((cell, j) => (j === 0 || j === row.length - 1 ? cell.padEnd(widths[j]) : cell.padStart(widths[j])))
          .join("  ")
          .trimEnd(),
      );
    console.log(`load average after: ${os.loadavg()[0].toFixed(2)} (1 min)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
