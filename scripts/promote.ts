/**
 * Make a trained run the project's detector (experiments/PROTOCOL-3.md): copy its best checkpoint into a model folder
 * with everything its score needs, all chosen and fitted without any label:
 *   - the reference parts (lib/detector fitDetector): zTopKMean's error statistics (error-stats.json, from the pool's
 *     adapt part), the feature density on the training normals (density.json) and its pool-adapted version
 *     (density-adapted.json), the fusion's reference scales on the held-out normals (fusion.json);
 *   - the score: the best selection value on the pool's select part, by PROTOCOL-3's rule (margin, ties);
 *   - its threshold: the checked pool5 rule (the top 5 % of the select part, unless the pool looks like more than 5 %
 *     anomalies; then the 99th percentile of the reference normals), with the rule and its reason.
 *
 *   npm run promote -- runs/final                          # -> models/wells-ae, refuses to replace an existing model
 *   npm run promote -- runs/final --to models/other --replace
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { replaceDirAtomic } from "../lib/common/atomic";
import { readDetectorConfig } from "../lib/detector/config";
import { saveDetectorParts } from "../lib/detector/detector";
import { ONNX_FILE, writeOnnxChecked } from "../lib/detector/onnx-export";
import { checkpointDir, evaluateCheckpoint } from "../lib/detector/pipeline";
import { initBackend } from "../lib/tf/backend";
import { parseCommand, runMain, UsageError } from "./options";

export const PROMOTE_COMMAND = {
  name: "promote",
  summary:
    "Fit a run's detector parts without labels, choose its score and threshold (PROTOCOL-3), " +
    "and copy it to a model folder.",
  usage: "npm run promote -- <run folder or checkpoint> [--to models/wells-ae] [--replace]",
  positionals: { min: 1, max: 1, name: "run folder" },
  options: {
    to: { type: "string", default: "models/wells-ae", help: "model folder to write" },
    data: { type: "string", help: "dataset folder (default: data/wells or ../shared/data/wells)" },
    replace: { type: "boolean", help: "replace a model already in --to (atomically)" },
  },
} as const;

async function main() {
  const { values, positionals } = parseCommand(PROMOTE_COMMAND);
  if (!fs.existsSync(positionals[0])) throw new UsageError(`no such run folder: ${positionals[0]}`);
  const from = checkpointDir(positionals[0]);
  const to = values.to;
  if (path.resolve(from) === path.resolve(to))
    throw new UsageError(`--to ${to} is the checkpoint being promoted; name another folder`);
  if (values.data && !fs.existsSync(values.data)) throw new UsageError(`--data ${values.data}: no such folder`);
  if (fs.existsSync(path.join(to, "model.json")) && !values.replace)
    throw new UsageError(
      `${to} already holds a model; ` +
        "add --replace to replace it (the old one is replaced atomically), or name another --to",
    );
  await initBackend();
  const ev = await evaluateCheckpoint(from, { data: values.data, onMessage: (t) => console.log(`  ${t}`) });
  const runLog = path.join(positionals[0], "log.jsonl");
  await replaceDirAtomic(to, async (tmp) => {
    for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(tmp, f));
    // the training log travels with the model, so its curves can be drawn from models/ alone (npm run charts)
    if (fs.existsSync(runLog)) fs.copyFileSync(runLog, path.join(tmp, "log.jsonl"));
    const json = JSON.parse(fs.readFileSync(path.join(tmp, "model.json"), "utf8"));
    const m = json.userDefinedMetadata ?? {};
    const { legacy: _, ...config } = readDetectorConfig(m, path.join(from, "model.json"));
    json.userDefinedMetadata = {
      ...m,
      config: { ...config, score: ev.choice.score, threshold: "checkedPool" },
      trainedAs: m.trainedAs ?? m.score,
      score: ev.choice.score,
      scoreChoice: ev.choice.reason,
      threshold: ev.threshold.threshold,
      thresholdRule: ev.threshold.rule,
      thresholdStrategy: ev.threshold.reason,
      estimatedAnomalousShare: ev.threshold.estimatedAnomalousShare,
      protocol: "experiments/PROTOCOL-3.md",
      poolValidation: ev.rows,
      promotedFrom: positionals[0],
    };
    fs.writeFileSync(path.join(tmp, "model.json"), JSON.stringify(json));
    for (const f of ["error-stats.json", "density.json", "density-adapted.json", "fusion.json", ONNX_FILE])
      fs.rmSync(path.join(tmp, f), { force: true });
    saveDetectorParts(tmp, ev.detector);
    const check = await writeOnnxChecked(ev.detector.model, path.join(tmp, ONNX_FILE));
    console.log(
      check.checked
        ? `  ${ONNX_FILE}: matches tfjs within ${check.maxDiff.toExponential(2)}`
        : `  ${ONNX_FILE}: written unchecked (onnxruntime-node cannot load here)`,
    );
  });
  console.log(`${from} -> ${to}; score ${ev.choice.score} (${ev.choice.reason})`);
  console.log(`threshold ${ev.threshold.threshold} (${ev.threshold.rule}): ${ev.threshold.reason}`);
  for (const r of ev.rows)
    console.log(
      `  ${r.score}: selection ${r.selection.toFixed(4)} ` +
        `(proliv vs pool ${r.aurocProliv.toFixed(4)}, synthetic on pool ${r.aurocSynthetic.toFixed(4)})`,
    );
}

if (require.main === module) runMain(main);
