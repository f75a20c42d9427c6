/**
 * Make a trained run the project's model: copy its best checkpoint to models/wells-ae (atomically) and record in
 * its metadata (and its training log.jsonl beside it) the anomaly score chosen on validation only — the score with the highest AUROC on the synthetic-defect
 * suite (proliv/ saturates and cannot choose) — with the whole validation summary.
 *
 *   npm run promote -- runs/final                  # -> models/wells-ae
 *   npm run promote -- runs/final --to models/other
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { replaceDirAtomic } from "../lib/atomic";
import { loadModel, readModelMetadata } from "../lib/checkpoint";
import { prepareWells } from "../lib/dataset";
import { reconstruct } from "../lib/predict";
import { SCORE_NAMES, ScoreName, scoreBatch } from "../lib/scores";
import { percentileThreshold } from "../lib/thresholds";
import { initBackend } from "../lib/tf/backend";
import { buildValidationSuite, chooseScore, summarizeValidation } from "../lib/validation";

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { to: { type: "string", default: "models/wells-ae" }, data: { type: "string" } } });
  if (positionals.length !== 1) throw new Error("name one run folder: npm run promote -- runs/final");
  await initBackend();
  const from = path.join(positionals[0], "best");
  const meta = readModelMetadata(from) as { shape: [number, number, number] };
  const [height, width, channels] = meta.shape;
  const ds = await prepareWells({ root: values.data, size: { height, width, channels: channels as 1 | 3 } });
  const model = await loadModel(from);
  const summary = await summarizeValidation(model, buildValidationSuite(ds.trainData.validation, meta.shape), meta.shape, [...SCORE_NAMES] as ScoreName[]);
  const score = chooseScore(summary);
  const val = ds.trainData.validation;
  const valScores = scoreBatch(score, val.data, await reconstruct(model, val.data, meta.shape), meta.shape);
  const threshold = percentileThreshold(val.labels, valScores, 95).threshold;
  await replaceDirAtomic(values.to!, (tmp) => {
    for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(tmp, f));
    // the training log travels with the model, so its curves can be drawn from models/ alone (npm run charts)
    fs.copyFileSync(path.join(positionals[0], "log.jsonl"), path.join(tmp, "log.jsonl"));
    const json = JSON.parse(fs.readFileSync(path.join(tmp, "model.json"), "utf8"));
    json.userDefinedMetadata = { ...json.userDefinedMetadata, trainedAs: json.userDefinedMetadata.score, score, threshold, thresholdStrategy: "p95 of held-out normals", validationSuite: summary, promotedFrom: positionals[0] };
    fs.writeFileSync(path.join(tmp, "model.json"), JSON.stringify(json));
  });
  console.log(`${from} -> ${values.to}; score chosen on the synthetic-defect validation suite: ${score}; p95 threshold ${threshold}`);
  for (const r of summary) console.log(`  ${r.score}: AUROC synthetic ${r.aurocSynthetic.toFixed(4)}, proliv ${r.aurocProliv.toFixed(4)}`);
}

main().catch((e) => {
  console.error(`✖ ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
