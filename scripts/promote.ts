/**
 * Make a trained run the project's model: copy its best checkpoint to models/wells-ae (atomically), with its training
 * log.jsonl, and record in its metadata what experiments/PROTOCOL-2.md chooses without any label:
 *   - the score with the highest selection value on the deployment pool's select part (proliv vs pool and synthetic
 *     defects on pool images, `poolValidation`), zTopKMean included when the run did not train on the adapt part;
 *   - its threshold: the top 5 % of the select part's scores are flagged (`deploymentThreshold`);
 *   - zTopKMean's reference statistics (error-stats.json), fitted on the adapt part's pseudo-normals.
 * The older held-out-normals validation summary is stored too.
 *
 *   npm run promote -- runs/final                  # -> models/wells-ae
 *   npm run promote -- runs/final --to models/other
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { replaceDirAtomic } from "../lib/atomic";
import { loadModel, readModelMetadata, writeErrorStats } from "../lib/checkpoint";
import { loadCached } from "../lib/image-cache";
import { poolErrorStats, POOL_SPILL_SHARE, splitPool } from "../lib/pool";
import { prepareWells } from "../lib/dataset";
import { reconstruct } from "../lib/predict";
import { PLAIN_SCORES, SCORE_NAMES, scoreBatch } from "../lib/scores";
import { initBackend } from "../lib/tf/backend";
import { buildValidationSuite, deploymentThreshold, poolValidation, summarizeValidation } from "../lib/validation";

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { to: { type: "string", default: "models/wells-ae" }, data: { type: "string" } } });
  if (positionals.length !== 1) throw new Error("name one run folder: npm run promote -- runs/final");
  await initBackend();
  const from = path.join(positionals[0], "best");
  const meta = readModelMetadata(from) as { shape: [number, number, number] };
  const [height, width, channels] = meta.shape;
  const ds = await prepareWells({ root: values.data, size: { height, width, channels: channels as 1 | 3 } });
  const model = await loadModel(from);
  const suite = buildValidationSuite(ds.trainData.validation, meta.shape);
  const summary = await summarizeValidation(model, suite, meta.shape, [...PLAIN_SCORES]);
  const pool = splitPool(ds.list.test);
  const trainedOnPool = (meta as { trainedOnPool?: string }).trainedOnPool;
  const errorStats = trainedOnPool ? undefined : await poolErrorStats(model, (await loadCached(pool.adapt, ds.size)).data, meta.shape);
  const select = (await loadCached(pool.select, ds.size)).data; // images only: labels are not read
  const poolRows = await poolValidation(model, select, suite.proliv, meta.shape, errorStats ? [...SCORE_NAMES] : [...PLAIN_SCORES], { scoreOptions: { errorStats } });
  const score = poolRows.reduce((best, r) => (r.selection > best.selection ? r : best)).score;
  const selectScores = scoreBatch(score, select, await reconstruct(model, select, meta.shape), meta.shape, { errorStats });
  const threshold = deploymentThreshold(selectScores, POOL_SPILL_SHARE);
  await replaceDirAtomic(values.to!, (tmp) => {
    for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(tmp, f));
    // the training log travels with the model, so its curves can be drawn from models/ alone (npm run charts)
    fs.copyFileSync(path.join(positionals[0], "log.jsonl"), path.join(tmp, "log.jsonl"));
    const json = JSON.parse(fs.readFileSync(path.join(tmp, "model.json"), "utf8"));
    json.userDefinedMetadata = {
      ...json.userDefinedMetadata, trainedAs: json.userDefinedMetadata.score, score, threshold,
      thresholdStrategy: `top ${POOL_SPILL_SHARE * 100} % of the pool's select part (experiments/PROTOCOL-2.md)`,
      poolValidation: poolRows, validationSuite: summary, promotedFrom: positionals[0],
    };
    fs.writeFileSync(path.join(tmp, "model.json"), JSON.stringify(json));
    if (errorStats) writeErrorStats(tmp, errorStats, "pseudo-normals of the deployment pool's adapt part (lowest 90 % by topKMean)");
  });
  console.log(`${from} -> ${values.to}; score chosen by the pool selection value: ${score}; threshold (top ${POOL_SPILL_SHARE * 100} % of select) ${threshold}`);
  for (const r of poolRows) console.log(`  ${r.score}: selection ${r.selection.toFixed(4)} (proliv vs pool ${r.aurocProliv.toFixed(4)}, synthetic on pool ${r.aurocSynthetic.toFixed(4)})`);
}

main().catch((e) => {
  console.error(`✖ ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
