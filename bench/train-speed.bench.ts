/**
 * Training and inference speed of the project's autoencoder (lib/model.ts) on every TensorFlow.js backend here,
 * optionally against the same network in PyTorch (bench/torch_ae.py) in the same run.
 *
 *   node --expose-gc --import tsx bench/train-speed.bench.ts                       # 32×48×3, 32/64/128, batch 64
 *   node --expose-gc --import tsx bench/train-speed.bench.ts --vs-torch
 *   node --expose-gc --import tsx bench/train-speed.bench.ts --preset small        # 64×64×1, 16/32/64, batch 32
 *   node --expose-gc --import tsx bench/train-speed.bench.ts --height 64 --width 64 --channels 3 --filters 32,64,128 \
 *     --batch 64
 *   (--steps N timed training steps, --backends wasm,cpu to choose, --infer-batch N, --torch-threads 2,1,
 *    --workers N worker threads for the extra "wasm, N workers" row, default one per core; 0 leaves it out)
 *
 * Each backend runs in its own process so its peak memory (RSS) is its own. Train img/s is model.trainOnBatch on
 * random batches after warm-up steps; infer img/s is model.predict on one large batch. "per CPU-s" divides by the
 * CPU time the process used instead of wall time: on a shared machine it shows the work done, not the waiting
 * (tfjs-wasm uses one thread in Node). PyTorch runs with 2 threads, as a user would, and with 1 (on a busy machine
 * its second thread rarely gets a core); bench/torch_ae.py reports which BLAS it loaded. The "wasm, N workers" row
 * trains with lib/tf/parallel-train (each step split over N worker threads, gradients averaged) and infers with
 * lib/tf/parallel-reconstruct (images split over N workers): what `npm run train` and the notebooks use by default.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_ORDER, initBackend, type BackendName } from "../lib/tf/backend";
import { modelArgs } from "./model-args";
import { buildAutoencoder, DEFAULT_MODEL } from "../lib/detector/model";
import { ParallelTrainer } from "../lib/detector/parallel-train";
import { ReconstructPool } from "../lib/detector/parallel-reconstruct";

interface Result {
  backend: string;
  train: number; // images per wall second
  trainCpu: number; // images per CPU second
  infer: number;
  inferCpu: number;
  rssMb: number;
  note?: string;
}

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const cfg = modelArgs(argv, { ...DEFAULT_MODEL, batch: 64 });

/** Time f: wall and CPU milliseconds. */
async function timed(f: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/** The wasm backend over worker threads (lib/tf/parallel-*), in this process: prints a JSON Result. */
async function childWorkers(workers: number): Promise<void> {
  const steps = Number(flag("steps") ?? 8);
  const inferBatch = Number(flag("infer-batch") ?? 256);
  const per = cfg.height * cfg.width * cfg.channels;
  const trainer = await ParallelTrainer.open({ ...cfg }, { workers, backend: "wasm" });
  const batches = [0, 1, 2].map((i) =>
    Float32Array.from({ length: cfg.batch * per }, (_, k) => ((k * 2654435761 + i * 97) % 1000) / 1000),
  );
  for (let i = 0; i < 3; i++) await trainer.trainOnBatch(batches[i % 3], [cfg.height, cfg.width, cfg.channels]);
  const train = await timed(async () => {
    for (let i = 0; i < steps; i++) await trainer.trainOnBatch(batches[i % 3], [cfg.height, cfg.width, cfg.channels]);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-model-"));
  await trainer.save(dir);
  await trainer.close();
  const pool = await ReconstructPool.open(dir, { workers, backend: "wasm" });
  const images = Float32Array.from({ length: workers * inferBatch * per }, (_, k) => (k % 997) / 997);
  await pool.reconstruct(images, [cfg.height, cfg.width, cfg.channels], inferBatch); // warm-up
  const reps = 3;
  const infer = await timed(async () => {
    for (let i = 0; i < reps; i++) await pool.reconstruct(images, [cfg.height, cfg.width, cfg.channels], inferBatch);
  });
  await pool.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const n = images.length / per;
  // worker threads count in this process's CPU time and peak RSS
  console.log(
    JSON.stringify({
      backend: `wasm, ${workers} workers`,
      train: (1000 * steps * cfg.batch) / train.wall,
      trainCpu: (1000 * steps * cfg.batch) / train.cpu,
      infer: (1000 * reps * n) / infer.wall,
      inferCpu: (1000 * reps * n) / infer.cpu,
      rssMb: process.resourceUsage().maxRSS / 1024,
    } satisfies Result),
  );
}

/** One backend, in this process: prints a JSON Result. */
async function child(wanted: BackendName): Promise<void> {
  const got = await initBackend(wanted);
  if (got !== wanted) throw new Error(`backend ${wanted} cannot start here (initBackend fell back to ${got})`);
  const slow = got === "cpu";
  const steps = Number(flag("steps") ?? (slow ? 2 : 8));
  const warmup = slow ? 1 : 3;
  const inferBatch = Number(flag("infer-batch") ?? (slow ? cfg.batch : 256));
  const model = buildAutoencoder(cfg);
  const shape = [cfg.batch, cfg.height, cfg.width, cfg.channels];
  const batches = [0, 1, 2].map((i) => tf.randomUniform(shape, 0, 1, "float32", i + 1));
  for (let i = 0; i < warmup; i++) await model.trainOnBatch(batches[i % 3], batches[i % 3]);
  const train = await timed(async () => {
    for (let i = 0; i < steps; i++) await model.trainOnBatch(batches[i % 3], batches[i % 3]);
  });
  const big = tf.randomUniform([inferBatch, cfg.height, cfg.width, cfg.channels], 0, 1, "float32", 9);
  // (Not tf.tidy(() => y.dataSync()): tidy walks a returned typed array element by element.)
  const predict = () => {
    const y = model.predict(big, { batchSize: inferBatch }) as tf.Tensor;
    y.dataSync();
    y.dispose();
  };
  predict(); // warm-up
  const reps = slow ? 1 : 3;
  const infer = await timed(async () => {
    for (let i = 0; i < reps; i++) predict();
  });
  const images = steps * cfg.batch;
  const result: Result = {
    backend: got,
    train: (1000 * images) / train.wall,
    trainCpu: (1000 * images) / train.cpu,
    infer: (1000 * reps * inferBatch) / infer.wall,
    inferCpu: (1000 * reps * inferBatch) / infer.cpu,
    rssMb: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(result));
}

function runChild(backend: BackendName, workers = 0): Result | string {
  const passOn = argv.filter(
    (a, i) =>
      a !== "--vs-torch" &&
      a !== "--backends" &&
      argv[i - 1] !== "--backends" &&
      a !== "--workers" &&
      argv[i - 1] !== "--workers",
  );
  const args = [
    ...process.execArgv,
    __filename,
    "--child",
    backend,
    ...(workers ? ["--child-workers", `${workers}`] : []),
    ...passOn,
  ];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, TF_BACKEND: "" } });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{"))
    return (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`).slice(0, 200);
  return JSON.parse(line) as Result;
}

function runTorch(threads: number): Result | string {
  const python = "/usr/bin/python3";
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0)
    return "PyTorch is not importable by /usr/bin/python3: install it with `apt-get install -y python3-torch`";
  const script = path.join(__dirname, "torch_ae.py");
  const args = [
    script,
    "--height",
    `${cfg.height}`,
    "--width",
    `${cfg.width}`,
    "--channels",
    `${cfg.channels}`,
    "--filters",
    cfg.filters.join(","),
    "--batch",
    `${cfg.batch}`,
    "--threads",
    `${threads}`,
  ];
  const r = spawnSync(python, args, { encoding: "utf8" });
  if (r.status !== 0) return `torch_ae.py failed: ${r.stderr.trim().split("\n").pop()}`;
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return {
    backend: `${j.framework} (${j.threads} thread${j.threads === 1 ? "" : "s"}, ${j.blas} BLAS)`,
    train: j.train_img_s,
    trainCpu: j.train_img_cpu_s,
    infer: j.infer_img_s,
    inferCpu: j.infer_img_cpu_s,
    rssMb: j.peak_rss_mb,
  };
}

async function main() {
  const only = flag("child");
  if (only && flag("child-workers")) return childWorkers(Number(flag("child-workers")));
  if (only) return child(only as BackendName);
  const workers = Number(flag("workers") ?? os.availableParallelism());
  if (!(Number.isInteger(workers) && workers >= 0))
    throw new Error(`--workers: a whole number ≥ 0, got "${flag("workers")}"`);

  const list = (flag("backends")?.split(",") ?? BACKEND_ORDER) as BackendName[];
  for (const b of list)
    if (!BACKEND_ORDER.includes(b))
      throw new Error(`--backends: unknown backend "${b}" (known: ${BACKEND_ORDER.join(", ")})`);
  console.log(
    `autoencoder ${cfg.height}×${cfg.width}×${cfg.channels}, filters ${cfg.filters.join("/")}, batch ${cfg.batch}; ` +
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)}`,
  );
  const rows: Result[] = [];
  for (const b of list) {
    const r = runChild(b);
    if (typeof r === "string") console.log(`${b}: not run (${r})`);
    else rows.push(r);
    if (b === "wasm" && workers > 1 && typeof r !== "string") {
      const w = runChild(b, workers);
      if (typeof w === "string") console.log(`wasm, ${workers} workers: not run (${w})`);
      else rows.push(w);
    }
  }
  const torch: Result[] = [];
  if (argv.includes("--vs-torch")) {
    for (const t of (flag("torch-threads") ?? "2,1").split(",").map(Number)) {
      if (!Number.isInteger(t) || t < 1)
        throw new Error(`--torch-threads: positive integers separated by commas, got "${flag("torch-threads")}"`);
      const r = runTorch(t);
      if (typeof r === "string") {
        console.log(`pytorch: not run (${r})`);
        break;
      }
      rows.push(r);
      torch.push(r);
    }
    if (torch.some((t) => t.backend.includes("reference BLAS")))
      console.log(
        "note: PyTorch loaded Debian's reference BLAS (slow ConvTranspose2d); " +
          "`apt-get install -y libopenblas0-pthread` for a fair comparison",
      );
  }
  const f = (v: number | undefined, w = 8) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(1)).padStart(w);
  console.log(
    `${"backend".padEnd(44)} ${"train img/s".padStart(11)} ${"per CPU-s".padStart(9)} ` +
      `${"infer img/s".padStart(11)} ${"per CPU-s".padStart(9)} ${"peak RSS MB".padStart(11)}`,
  );
  for (const r of rows)
    console.log(
      `${r.backend.padEnd(44)} ${f(r.train, 11)} ${f(r.trainCpu, 9)} ` +
        `${f(r.infer, 11)} ${f(r.inferCpu, 9)} ${f(r.rssMb, 11)}`,
    );
  for (const wasm of rows.filter((r) => r.backend.startsWith("wasm")))
    for (const t of torch)
      console.log(
        `${wasm.backend} / ${t.backend}: train ${(wasm.train / t.train).toFixed(2)}× ` +
          `(per CPU-s ${(wasm.trainCpu / t.trainCpu).toFixed(2)}×), ` +
          `inference ${(wasm.infer / t.infer).toFixed(2)}× (per CPU-s ${(wasm.inferCpu / t.inferCpu).toFixed(2)}×)`,
      );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
