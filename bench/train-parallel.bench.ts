/**
 * Training speed of the project's autoencoder (lib/model.ts defaults: 32×48×3, filters 32/64/128, batch 64):
 * single-thread `model.trainOnBatch` against `ParallelTrainer` (lib/tf/parallel-train.ts) with 1, 2, … workers.
 *
 *   node --import tsx bench/train-parallel.bench.ts                               # batch 64, 10 steps, workers 1,2
 *   node --import tsx bench/train-parallel.bench.ts --steps 20 --warmup 3 --workers 1,2,4
 *   node --import tsx bench/train-parallel.bench.ts --preset small                # 64×64×1, 16/32/64, batch 32
 *   node --import tsx bench/train-parallel.bench.ts --height 64 --width 64 --filters 32,64,128 --batch 128
 *   npm run bench -- train-parallel
 *
 * Every method starts from the same seeded model and trains on the same random batches (3 of them, in turn):
 * `--warmup` steps (default 3), then `--steps` timed steps (default 10). "img/s" is images per wall second,
 * "vs 1 thread" the speed-up over single-thread trainOnBatch in this process; "cores busy" is the CPU time the
 * process used (all its threads) per wall second, so a 2-worker run that shows well under 2 did not get two
 * cores. "loss diff" is the largest relative difference of the step losses from single-thread trainOnBatch
 * (float summation order only; 0 for 1 worker). The last columns split a parallel step (means, ms): gradient
 * computation (the slowest worker), the main thread's weighted sum, the Adam update (the slowest worker), and
 * what is left: messages and copies. Wall-clock figures: on a machine whose cores are busy with other work the
 * workers wait for a core, so read them with the load average printed above and below the table.
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/tf/backend";
import { modelArgs } from "./model-args";
import { buildAutoencoder, DEFAULT_MODEL } from "../lib/detector/model";
import { mulberry32 } from "../lib/common/random";
import { ParallelTrainer, type StepTimes } from "../lib/detector/parallel-train";

const argv = process.argv.slice(2); // flags this benchmark does not know (bench/index.ts passes them all) are ignored
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const cfg = modelArgs(argv, { ...DEFAULT_MODEL, batch: 64 });
const steps = Number(flag("steps") ?? 10);
const warmup = Number(flag("warmup") ?? 3);
const workerCounts = (flag("workers") ?? "1,2").split(",").map(Number);
for (const [name, v] of [["steps", steps], ...workerCounts.map((w) => ["workers", w] as const)] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number ≥ 1, got ${v}`);
if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`--warmup must be a whole number ≥ 0, got ${warmup}`);

interface Row {
  method: string;
  seconds: number;
  perSecond: number;
  cores: number;
  lossDiff?: number;
  split?: string;
  note?: string;
}

/** Run `step` warm-up + timed times; wall seconds and CPU seconds (whole process) of the timed ones, and all losses. */
async function run(step: (i: number) => Promise<number>): Promise<{ seconds: number; cpu: number; losses: number[] }> {
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) losses.push(await step(i));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = warmup; i < warmup + steps; i++) losses.push(await step(i));
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { seconds, cpu: (c.user + c.system) / 1e6, losses };
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const shape: [number, number, number] = [cfg.height, cfg.width, cfg.channels];
  const per = shape[0] * shape[1] * shape[2];
  const rand = mulberry32(1);
  const batches = [0, 1, 2].map(() => Float32Array.from({ length: cfg.batch * per }, () => rand()));
  const probe = buildAutoencoder(cfg);
  console.log(
    `model ${shape.join("×")}, filters ${cfg.filters.join("/")} (${probe.countParams()} weights), ` +
      `batch ${cfg.batch}; ` +
      `${warmup} warm-up + ${steps} timed steps; backend ${backend}; ` +
      `${os.availableParallelism()} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} (1/5/15 min)`,
  );
  probe.dispose();

  const rows: Row[] = [];
  const model = buildAutoencoder(cfg);
  const single = await run(async (i) => {
    const b = batches[i % 3];
    const x = tf.tensor4d(b, [cfg.batch, ...shape]);
    const loss = (await model.trainOnBatch(x, x)) as number;
    x.dispose();
    return loss;
  });
  model.dispose();
  rows.push({
    method: "trainOnBatch (1 thread)",
    seconds: single.seconds,
    perSecond: (steps * cfg.batch) / single.seconds,
    cores: single.cpu / single.seconds,
  });

  for (const workers of workerCounts) {
    const t0 = performance.now();
    const trainer = await ParallelTrainer.open(cfg, { workers });
    const openSeconds = (performance.now() - t0) / 1000;
    try {
      const times: StepTimes[] = [];
      const r = await run(async (i) => {
        const loss = await trainer.trainOnBatch(batches[i % 3], shape, cfg.batch);
        if (i >= warmup) times.push(trainer.lastStep!);
        return loss;
      });
      const mean = (f: (t: StepTimes) => number) => times.reduce((s, t) => s + f(t), 0) / times.length;
      const compute = mean((t) => Math.max(...t.computeMs));
      const reduce = mean((t) => t.reduceMs);
      const apply = mean((t) => Math.max(...t.applyMs));
      const total = mean((t) => t.totalMs);
      rows.push({
        method: `ParallelTrainer, ${workers} worker${workers > 1 ? "s" : ""}`,
        seconds: r.seconds,
        perSecond: (steps * cfg.batch) / r.seconds,
        cores: r.cpu / r.seconds,
        lossDiff: Math.max(...r.losses.map((l, i) => Math.abs(l - single.losses[i]) / Math.abs(single.losses[i]))),
        split:
          `${compute.toFixed(0)} / ${reduce.toFixed(1)} / ${apply.toFixed(1)} / ` +
          `${(total - compute - reduce - apply).toFixed(1)}`,
        note: `open ${openSeconds.toFixed(1)} s`,
      });
    } finally {
      await trainer.close();
    }
  }

  const base = rows[0].perSecond;
  const table = [
    ["method", "seconds", "img/s", "vs 1 thread", "cores busy", "loss diff", "compute / sum / apply / rest ms", ""],
    ...rows.map((r) => [
      r.method,
      r.seconds.toFixed(2),
      r.perSecond.toFixed(1),
      `×${(r.perSecond / base).toFixed(2)}`,
      r.cores.toFixed(2),
      r.lossDiff === undefined ? "" : r.lossDiff.toExponential(1),
      r.split ?? "",
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
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (1/5/15 min)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
