/**
 * Model inference side by side, on the same net, input and batch, in one run (issue 12): TensorFlow.js wasm on one
 * thread and on 2 worker threads, onnxruntime-node on 1 and 2 threads, and (with --vs-torch) PyTorch via
 * bench/torch_ae.py; then the ratios. The net is the plain 32×48×3 autoencoder (32/64/128) that torch_ae.py mirrors;
 * the committed BN detector is timed in tfjs and onnxruntime too. Finally `npm run score` end to end on 10,000
 * crops of the course's train/ (decode included) with its peak RSS, when the data is there.
 *
 *   npm run bench -- infer [--vs-torch]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { saveModel, loadModel } from "../lib/detector/checkpoint";
import { featureSpec } from "../lib/detector/features";
import { buildAutoencoder, DEFAULT_MODEL } from "../lib/detector/model";
import { exportOnnx } from "../lib/detector/onnx-export";
import { OnnxRunner } from "../lib/detector/onnx-runtime";
import { projectRoot, resolveData } from "../lib/common/paths";
import { reconstruct } from "../lib/detector/predict";
import { mulberry32 } from "../lib/common/random";
import { initBackend } from "../lib/tf/backend";
import { ReconstructPool } from "../lib/detector/parallel-reconstruct";

const argv = process.argv.slice(2);
const BATCH = 256,
  N = Number(process.env.BENCH_QUICK ? 512 : 4096);
const shape: [number, number, number] = [32, 48, 3];

async function best(f: () => Promise<unknown>, reps = 3) {
  await f();
  let s = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await f();
    s = Math.min(s, (performance.now() - t) / 1000);
  }
  return N / s;
}

async function timeNet(label: string, model: import("@tensorflow/tfjs").LayersModel, rows: [string, number][]) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "infer-"));
  await saveModel(model, path.join(tmp, "m"), { shape });
  fs.writeFileSync(path.join(tmp, "m.onnx"), exportOnnx(model));
  const rand = mulberry32(1);
  const x = Float32Array.from({ length: N * shape[0] * shape[1] * shape[2] }, () => rand());
  rows.push([`${label}: tfjs wasm, 1 thread`, await best(() => reconstruct(model, x, shape, BATCH))]);
  const pool = await ReconstructPool.open(path.join(tmp, "m"), { workers: 2 });
  rows.push([`${label}: tfjs wasm, 2 workers`, await best(() => pool.reconstruct(x, shape, BATCH))]);
  await pool.close();
  for (const threads of [1, 2]) {
    const r = await OnnxRunner.open(path.join(tmp, "m.onnx"), featureSpec(model), { threads });
    rows.push([
      `${label}: onnxruntime, ${threads} thread${threads > 1 ? "s" : ""}`,
      await best(() => r.run(x, shape, { batchSize: BATCH, features: false })),
    ]);
    await r.close();
  }
}

async function main() {
  await initBackend();
  const rows: [string, number][] = [];
  await timeNet("plain AE", buildAutoencoder({ ...DEFAULT_MODEL, ...shapeCfg() }), rows);
  const committed = path.join(projectRoot, "models", "wells-ae");
  if (fs.existsSync(path.join(committed, "model.json")))
    await timeNet("committed BN detector", await loadModel(committed), rows);
  let torch: number | null = null;
  if (argv.includes("--vs-torch")) {
    const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
    if (probe.status !== 0)
      console.log(
        "PyTorch is not importable by /usr/bin/python3: " +
          "install it with `apt-get install -y python3-torch libopenblas0-pthread`",
      );
    else {
      const r = spawnSync(
        "/usr/bin/python3",
        [
          path.join(__dirname, "torch_ae.py"),
          "--steps",
          "2",
          "--warmup",
          "1",
          "--infer-batch",
          String(BATCH),
          "--threads",
          "2",
        ],
        { encoding: "utf8" },
      );
      const line = r.stdout.trim().split("\n").pop() ?? "";
      try {
        torch = JSON.parse(line).infer_img_s;
        rows.push(["plain AE: PyTorch, 2 threads (bench/torch_ae.py)", torch!]);
      } catch {
        console.log(`torch_ae.py failed: ${r.stderr.slice(-500)}`);
      }
    }
  }
  console.log(`\ninference, ${N} images of ${shape.join("×")}, batch ${BATCH}, best of 3:`);
  for (const [label, v] of rows)
    console.log(
      `  ${label.padEnd(48)} ${v.toFixed(0).padStart(6)} img/s${torch ? `  ${(v / torch).toFixed(2)}× PyTorch` : ""}`,
    );
  let wells: string | null = null;
  try {
    wells = resolveData("wells");
  } catch {
    console.log("end-to-end scoring skipped: the course's wells data is not here");
  }
  if (wells && fs.existsSync(path.join(committed, "model.onnx")) && !process.env.BENCH_QUICK) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "score-"));
    const rows: Record<string, string[][]> = {};
    for (const runtime of ["onnx", "tfjs"]) {
      const out = path.join(tmp, `${runtime}.csv`);
      const t = performance.now();
      const r = spawnSync(
        "/usr/bin/time",
        [
          "-f",
          "%M",
          process.execPath,
          "--import",
          "tsx",
          path.join(projectRoot, "scripts", "score.ts"),
          path.join(wells, "train"),
          "--out",
          out,
          "--runtime",
          runtime,
        ],
        { encoding: "utf8", cwd: projectRoot },
      );
      const s = (performance.now() - t) / 1000;
      const rss = Number(r.stderr.trim().split("\n").pop());
      const n = fs.readFileSync(out, "utf8").trim().split("\n").length - 1;
      console.log(
        `npm run score on ${n} crops of train/, --runtime ${runtime}: ${s.toFixed(1)} s, ` +
          `${(n / s).toFixed(0)} img/s end to end (decode and start-up included), ` +
          `peak RSS ${(rss / 1024).toFixed(0)} MB`,
      );
      rows[runtime] = fs
        .readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(","));
    }
    const [a, b] = [rows.onnx, rows.tfjs];
    const rel = Math.max(
      ...a.map((r, i) => Math.abs(Number(r[1]) - Number(b[i][1])) / Math.max(1, Math.abs(Number(b[i][1])))),
    );
    console.log(
      `onnx vs tfjs on the same ${a.length} crops: largest relative score difference ${rel.toExponential(2)}, ` +
        `labels that differ: ${a.filter((r, i) => r[2] !== b[i][2]).length}`,
    );
  }
}
const shapeCfg = () => ({ height: shape[0], width: shape[1], channels: shape[2] });

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
