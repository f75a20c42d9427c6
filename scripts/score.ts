/**
 * Score new well images with a trained model: one line per image with its anomaly score and label.
 *
 *   npm run score -- path/to/folder-or-images… --model models/wells-ae [--threshold 0.0123] [--out scores.csv|scores.json]
 *
 * The model folder's metadata gives the input size, the score and the threshold chosen without labels (stored by
 * `npm run promote`); the score's reference parts (error-stats.json, density.json, fusion.json) are loaded from the
 * same folder and checked against the model's layers (lib/detector). --threshold overrides the threshold. Without
 * any threshold only scores are printed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../lib/atomic";
import { readModelMetadata } from "../lib/checkpoint";
import { detectorScores, isDetectorScore, loadDetector, DETECTOR_SCORES } from "../lib/detector";
import { initBackend } from "../lib/tf/backend";
import { decodePixelsBatch, pixelsToFloat } from "../lib/wells";

const IMAGE = /\.(jpe?g|png)$/i;

export function collectImages(inputs: string[]): string[] {
  const files: string[] = [];
  for (const p of inputs) {
    if (!fs.existsSync(p)) throw new Error(`no such file or folder: ${p}`);
    if (fs.statSync(p).isDirectory()) {
      const inside = fs.readdirSync(p).filter((f) => IMAGE.test(f)).sort().map((f) => path.join(p, f));
      if (inside.length === 0) throw new Error(`folder ${p} holds no .jpg/.jpeg/.png images`);
      files.push(...inside);
    } else files.push(p);
  }
  return files;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: "string", default: "models/wells-ae" },
      threshold: { type: "string" },
      out: { type: "string" },
      backend: { type: "string" },
    },
  });
  if (positionals.length === 0) throw new Error("name the images to score: npm run score -- <folder or files…> --model <dir>");
  await initBackend(values.backend as "wasm" | "cpu" | undefined);
  const meta = readModelMetadata(values.model!) as { shape: [number, number, number]; score?: string; threshold?: number };
  if (values.threshold !== undefined && !Number.isFinite(Number(values.threshold)))
    throw new Error(`--threshold must be a number, got "${values.threshold}"`);
  const threshold = values.threshold !== undefined ? Number(values.threshold) : meta.threshold;
  const score = meta.score ?? "mse";
  if (!isDetectorScore(score)) throw new Error(`${values.model}/model.json names score "${score}", not one of ${DETECTOR_SCORES.join(", ")}`);
  const [height, width, channels] = meta.shape;
  const files = collectImages(positionals);
  const pixels = await decodePixelsBatch(files, { height, width, channels: channels as 1 | 3 });
  const images = pixelsToFloat(pixels);
  const detector = await loadDetector(values.model!);
  const scores = (await detectorScores(detector, images, [score]))[score];
  const rows = files.map((file, i) => ({
    file,
    score: scores[i],
    label: threshold === undefined ? null : scores[i] > threshold ? "spill" : "normal",
  }));
  if (values.out) {
    const text = values.out.endsWith(".json")
      ? JSON.stringify({ model: values.model, score, threshold: threshold ?? null, images: rows }, null, 1)
      : "file,score,label\n" + rows.map((r) => `${JSON.stringify(r.file)},${r.score},${r.label ?? ""}`).join("\n") + "\n";
    writeFileAtomic(values.out, text);
    console.log(`wrote ${rows.length} scores to ${values.out}`);
  } else {
    console.log(`score=${score} threshold=${threshold ?? "none"}`);
    for (const r of rows) console.log(`${r.file}\t${r.score.toExponential(4)}${r.label ? "\t" + r.label : ""}`);
  }
  if (threshold !== undefined) console.log(`${rows.filter((r) => r.label === "spill").length} of ${rows.length} scored as spill`);
}

main().catch((e) => {
  console.error(`✖ ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
