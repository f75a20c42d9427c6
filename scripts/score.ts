/**
 * Score new images with a promoted detector: one row per image with its anomaly score and label, streamed in
 * batches (decode, score, append), so a folder of any size runs in bounded memory.
 *
 *   npm run score -- path/to/folder-or-images… [--model models/wells-ae] [--threshold 38.3]
 *     [--out scores.csv|scores.json]
 *   npm run score -- incoming/ --out incoming.csv --skip-bad      # exit 0 even when some files cannot be read
 *   npm run score -- incoming/ --runtime tfjs                     # default auto: onnxruntime when model.onnx is there
 *
 * The model folder's metadata gives the input size, the score and the threshold chosen without labels (stored by
 * `npm run promote`); the score's reference parts (error-stats.json, density.json, fusion.json) are loaded from the
 * same folder and checked against the model's layers (lib/detector). --threshold overrides the threshold. Images of
 * any size are resized to the model's input, grey ones expanded to its channels. A file that cannot be decoded is
 * listed with its error and the others are scored; the command then exits 1, unless --skip-bad is given.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readDetectorConfig } from "../lib/detector/config";
import { readModelMetadata } from "../lib/detector/checkpoint";
import { detectorScores, isDetectorScore, loadDetector, DETECTOR_SCORES } from "../lib/detector/detector";
import { bar } from "../lib/common/progress";
import { initBackend } from "../lib/tf/backend";
import { decodeImagePixels, pixelsToFloat } from "../lib/detector/wells";
import { parseCommand, runMain, UsageError } from "./options";
import * as os from "node:os";
import { ONNX_FILE } from "../lib/detector/onnx-export";
import { onnxAvailable, OnnxRunner } from "../lib/detector/onnx-runtime";

const IMAGE = /\.(jpe?g|png)$/i;
/**
 * Files decoded at once: sharp's per-image overhead dominates for small crops, so many in flight keep both cores
 * busy.
 */
const DECODE_IN_FLIGHT = 64;

/** The image files named: files as given, folders by their .jpg/.jpeg/.png files in name order. */
export function collectImages(inputs: string[]): string[] {
  const files: string[] = [];
  for (const p of inputs) {
    if (!fs.existsSync(p)) throw new UsageError(`no such file or folder: ${p}`);
    if (fs.statSync(p).isDirectory()) {
      const inside = fs
        .readdirSync(p)
        .filter((f) => IMAGE.test(f))
        .sort()
        .map((f) => path.join(p, f));
      if (inside.length === 0) throw new UsageError(`folder ${p} holds no .jpg/.jpeg/.png images`);
      files.push(...inside);
    } else files.push(p);
  }
  return files;
}

export const SCORE_COMMAND = {
  name: "score",
  summary: "Score images with a promoted detector; label them with its threshold.",
  usage: "npm run score -- <folder or images…> [options]",
  positionals: { min: 1, name: "images or folders" },
  options: {
    model: { type: "string", default: "models/wells-ae", help: "detector folder written by npm run promote" },
    threshold: { type: "float", help: "override the model's threshold" },
    out: { type: "string", help: "write the rows to this .csv or .json file (its folder must exist)" },
    batch: { type: "int", min: 1, max: 65_536, default: 1024, help: "images decoded and scored at a time" },
    runtime: {
      type: "choice",
      choices: ["auto", "onnx", "tfjs"],
      default: "auto",
      help: "onnxruntime (model.onnx) or TensorFlow.js; auto: onnx when the file is there and onnxruntime loads",
    },
    threads: { type: "int", min: 1, max: 256, default: os.availableParallelism(), help: "onnxruntime threads" },
    backend: { type: "choice", choices: ["wasm", "cpu", "tensorflow"], help: "TensorFlow.js backend" },
    "skip-bad": { type: "boolean", help: "exit 0 even when some files could not be read (they are still listed)" },
  },
} as const;

async function main() {
  const { values, positionals } = parseCommand(SCORE_COMMAND);
  const modelDir = values.model;
  if (!fs.existsSync(path.join(modelDir, "model.json")))
    throw new UsageError(`--model ${modelDir}: no model.json there (promote a run with npm run promote)`);
  if (values.out) {
    if (!/\.(csv|json)$/i.test(values.out)) throw new UsageError(`--out ${values.out}: name a .csv or .json file`);
    const dir = path.dirname(path.resolve(values.out));
    if (!fs.existsSync(dir)) throw new UsageError(`--out ${values.out}: folder ${dir} does not exist`);
  }
  const files = collectImages(positionals);
  const meta = readModelMetadata(modelDir) as { threshold?: number };
  // the deployed score from the model's config (promote stores it); "mse" for a run that was never promoted
  const score = readDetectorConfig(meta, path.join(modelDir, "model.json")).score ?? "mse";
  if (!isDetectorScore(score))
    throw new Error(`${modelDir}/model.json names score "${score}", not one of ${DETECTOR_SCORES.join(", ")}`);
  const threshold = values.threshold ?? meta.threshold;
  await initBackend(values.backend);
  const detector = await loadDetector(modelDir);
  const onnxFile = path.join(modelDir, ONNX_FILE);
  const ort = onnxAvailable();
  if (values.runtime === "onnx" && !fs.existsSync(onnxFile))
    throw new UsageError(`--runtime onnx: ${onnxFile} does not exist (npm run export-onnx -- ${modelDir})`);
  if (values.runtime === "onnx" && !ort.ok)
    throw new Error(`--runtime onnx: onnxruntime-node cannot load: ${ort.reason}`);
  if (values.runtime !== "tfjs" && fs.existsSync(onnxFile) && ort.ok) {
    detector.onnx = await OnnxRunner.open(onnxFile, detector.spec, { threads: values.threads });
    console.error(`runtime: onnxruntime (${onnxFile}, ${values.threads} thread${values.threads === 1 ? "" : "s"})`);
  } else {
    const why = !fs.existsSync(onnxFile)
      ? `no ${onnxFile}`
      : `onnxruntime-node cannot load: ${ort.ok ? "" : ort.reason}`;
    console.error(`runtime: TensorFlow.js${values.runtime === "tfjs" ? "" : ` (${why})`}`);
  }
  const [height, width, channels] = detector.shape;
  const size = { height, width, channels: channels as 1 | 3 };

  // Rows are appended as they come, to a temporary file renamed into place at the end (a crash leaves no half file).
  const json = values.out?.toLowerCase().endsWith(".json");
  const tmp = values.out ? `${values.out}.${process.pid}.tmp` : null;
  const fd = tmp ? fs.openSync(tmp, "w") : null;
  const write = (text: string) => (fd !== null ? fs.writeSync(fd, text) : process.stdout.write(text));
  if (json)
    write(
      `{"model":${JSON.stringify(modelDir)},"score":${JSON.stringify(score)},` +
        `"threshold":${threshold ?? null},"images":[`,
    );
  else if (fd !== null) write("file,score,label\n");
  else console.log(`score=${score} threshold=${threshold ?? "none"}`);
  const failed: { file: string; error: string }[] = [];
  let scored = 0,
    spills = 0,
    first = true;
  const started = Date.now();
  try {
    // decode batch k + 1 while batch k is scored (sharp decodes on libuv threads); DECODE_IN_FLIGHT files at a time
    const decodeChunk = async (chunk: string[]) => {
      const out: ({ f: string; p: Uint8Array } | { f: string; e: Error })[] = [];
      for (let i = 0; i < chunk.length; i += DECODE_IN_FLIGHT)
        out.push(
          ...(await Promise.all(
            chunk.slice(i, i + DECODE_IN_FLIGHT).map((f) =>
              decodeImagePixels(f, size).then(
                (p) => ({ f, p }),
                (e: Error) => ({ f, e }),
              ),
            ),
          )),
        );
      return out;
    };
    let next = decodeChunk(files.slice(0, values.batch));
    for (let start = 0; start < files.length; start += values.batch) {
      const decoded = await next;
      if (start + values.batch < files.length)
        next = decodeChunk(files.slice(start + values.batch, start + 2 * values.batch));
      const good = decoded.filter((d): d is { f: string; p: Uint8Array } => "p" in d);
      for (const d of decoded) if ("e" in d) failed.push({ file: d.f, error: d.e.message });
      if (good.length) {
        const per = height * width * channels;
        const pixels = new Uint8Array(good.length * per);
        good.forEach((g, i) => pixels.set(g.p, i * per));
        const s = (await detectorScores(detector, pixelsToFloat(pixels), [score]))[score];
        good.forEach((g, i) => {
          const label = threshold === undefined ? null : s[i] > threshold ? "spill" : "normal";
          if (label === "spill") spills++;
          if (json)
            write(
              `${first ? "" : ","}\n {"file":${JSON.stringify(g.f)},"score":${s[i]},"label":${JSON.stringify(label)}}`,
            );
          else if (fd !== null) write(`${JSON.stringify(g.f)},${s[i]},${label ?? ""}\n`);
          else write(`${g.f}\t${s[i].toExponential(4)}${label ? `\t${label}` : ""}\n`);
          first = false;
        });
        scored += good.length;
      }
      const done = Math.min(start + values.batch, files.length);
      const rate = done / Math.max(1e-3, (Date.now() - started) / 1000);
      if (fd !== null)
        process.stderr.write(
          `\rscoring ${bar(done / files.length)} ${done}/${files.length} images, ${rate.toFixed(0)} img/s   `,
        );
    }
    if (json) write(`\n],"failed":${JSON.stringify(failed)}}\n`);
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  if (tmp) {
    fs.renameSync(tmp, values.out!);
    process.stderr.write("\n");
    console.log(`wrote ${scored} scores to ${values.out}`);
  }
  for (const f of failed) console.error(`✖ could not score ${f.file}: ${f.error}`);
  console.log(
    `${scored} of ${files.length} images scored, ${failed.length} failed` +
      (threshold !== undefined ? `; ${spills} scored as spill (threshold ${threshold})` : ""),
  );
  await detector.onnx?.close();
  if (failed.length && !values["skip-bad"])
    throw new Error(
      `${failed.length} file${failed.length === 1 ? "" : "s"} could not be scored (listed above); ` +
        "--skip-bad exits 0 anyway",
    );
}

if (require.main === module) runMain(main);
