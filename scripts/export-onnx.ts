/**
 * Write a model folder's network as ONNX (lib/onnx-export): `<folder>/model.onnx`, with the reconstruction and the
 * encoder layers the feature density reads as outputs, checked against tfjs on a few random images before it is
 * kept. `npm run promote` does the same for the models it writes.
 *
 *   npm run export-onnx -- models/wells-ae
 *   npm run export-onnx -- runs/a/best --out /tmp/a.onnx
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadModel } from "../lib/detector/checkpoint";
import { ONNX_FILE, writeOnnxChecked } from "../lib/detector/onnx-export";
import { initBackend } from "../lib/tf/backend";
import { parseCommand, runMain, UsageError } from "./options";

export const EXPORT_ONNX_COMMAND = {
  name: "export-onnx",
  summary: "Export a model folder's network to ONNX (checked against tfjs before it is kept).",
  usage: "npm run export-onnx -- <model folder> [--out file.onnx]",
  positionals: { min: 1, max: 1, name: "model folder" },
  options: { out: { type: "string", help: "file to write (default <folder>/model.onnx; its folder must exist)" } },
} as const;

async function main() {
  const { values, positionals } = parseCommand(EXPORT_ONNX_COMMAND);
  const dir = positionals[0];
  if (!fs.existsSync(path.join(dir, "model.json"))) throw new UsageError(`${dir}: no model.json there`);
  const out = values.out ?? path.join(dir, ONNX_FILE);
  if (!fs.existsSync(path.dirname(path.resolve(out))))
    throw new UsageError(`--out ${out}: folder ${path.dirname(out)} does not exist`);
  await initBackend();
  const model = await loadModel(dir);
  const check = await writeOnnxChecked(model, out);
  console.log(
    `wrote ${out} (${(fs.statSync(out).size / 1024).toFixed(0)} kB); ` +
      `largest difference from tfjs on ${check.images} random images: ${check.maxDiff.toExponential(2)}`,
  );
}

if (require.main === module) runMain(main);
