/**
 * Validation figures of trained runs, for comparing experiments without test labels (README "Experiments").
 *
 *   npm run experiment -- runs/a runs/b            # best/ checkpoint of each run
 *   npm run experiment -- runs/a --out experiments/results.jsonl
 *
 * For each run and score: AUROC of held-out normals vs proliv/, vs synthetic defects (all and per kind), and the
 * share of spills / defects above the 97.5th percentile of normal scores. Then the label-free figures of
 * experiments/PROTOCOL-2.md on the deployment pool's *select* part (test images, labels never read): proliv vs pool
 * AUROC, synthetic-on-pool AUROC, their mean (the selection value), and the shift check — the ratio of the pool's score
 * quantiles (50th, 75th) to the held-out normals'.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { loadModel, readModelMetadata } from "../lib/checkpoint";
import { prepareWells } from "../lib/dataset";
import { table } from "../lib/display";
import { PLAIN_SCORES, SCORE_NAMES, ScoreName } from "../lib/scores";
import { initBackend } from "../lib/tf/backend";
import { readRunLog } from "../lib/train";
import { buildValidationSuite, poolValidation, scoreShift, summarizeValidation } from "../lib/validation";
import { loadCached } from "../lib/image-cache";
import { poolErrorStats, splitPool } from "../lib/pool";
import { reconstruct } from "../lib/predict";
import { scoreBatch } from "../lib/scores";

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: "string" }, data: { type: "string" } } });
  if (positionals.length === 0) throw new Error("name one or more run folders: npm run experiment -- runs/a");
  await initBackend();
  for (const run of positionals) {
    const dir = path.join(run, "best");
    const meta = readModelMetadata(dir) as { shape: [number, number, number]; epoch: number; model: Record<string, unknown> };
    const [height, width, channels] = meta.shape;
    const ds = await prepareWells({ root: values.data, size: { height, width, channels: channels as 1 | 3 } });
    const suite = buildValidationSuite(ds.trainData.validation, meta.shape);
    const model = await loadModel(dir);
    const rows = await summarizeValidation(model, suite, meta.shape, [...PLAIN_SCORES]);
    const history = readRunLog(run);
    const seconds = history.reduce((s, r) => s + r.seconds, 0);
    console.log(`\n${run}: best epoch ${meta.epoch} of ${history.length}, ${height}×${width}×${channels}, filters ${JSON.stringify(meta.model.filters)}, train ${seconds.toFixed(0)} s`);
    console.log(["score", "AUROC proliv", "AUROC synthetic", "speckle", "stain", "cutpaste", "TPR syn @p97.5", "TPR proliv @p97.5"].join("\t"));
    for (const r of rows)
      console.log([r.score, r.aurocProliv, r.aurocSynthetic, r.aurocByKind.speckle, r.aurocByKind.stain, r.aurocByKind.cutpaste, r.tprSyntheticAtP975, r.tprProlivAtP975].map((v) => (typeof v === "number" ? v.toFixed(4) : v)).join("\t"));
    const unlabelled = await loadCached(splitPool(ds.list.test).select, ds.size); // labels are not read
    // zTopKMean's reference: the adapt part's pseudo-normals — unless the run trained on them (PROTOCOL-2, amendment A)
    const trainedOnPool = (meta as { trainedOnPool?: string }).trainedOnPool;
    const errorStats = trainedOnPool ? undefined : await poolErrorStats(model, (await loadCached(splitPool(ds.list.test).adapt, ds.size)).data, meta.shape);
    const poolScores: ScoreName[] = errorStats ? [...SCORE_NAMES] : [...PLAIN_SCORES];
    const poolRows = await poolValidation(model, unlabelled.data, suite.proliv, meta.shape, poolScores, { scoreOptions: { errorStats } });
    console.log(["score", "AUROC proliv vs pool", "AUROC synthetic on pool", "selection value"].join("\t"));
    for (const r of poolRows) console.log([r.score, r.aurocProliv, r.aurocSynthetic, r.selection].map((v) => (typeof v === "number" ? v.toFixed(4) : v)).join("\t"));
    const unlabelledRecon = await reconstruct(model, unlabelled.data, meta.shape);
    const heldOut = await reconstruct(model, suite.normals, meta.shape);
    const shift = Object.fromEntries(
      poolScores.map((s) => [
        s,
        scoreShift(scoreBatch(s, suite.normals, heldOut, meta.shape, { errorStats }), scoreBatch(s, unlabelled.data, unlabelledRecon, meta.shape, { errorStats }), [50, 75]).map((r) => r.ratio),
      ]),
    );
    console.log("label-free shift (pool select part / held-out normals score ratio at the 50th, 75th percentile):");
    for (const [s, r] of Object.entries(shift)) console.log(`  ${s}\t${r.map((v) => v.toFixed(2)).join("\t")}`);
    if (values.out) {
      fs.mkdirSync(path.dirname(values.out), { recursive: true });
      fs.appendFileSync(values.out, JSON.stringify({ run, epoch: meta.epoch, epochs: history.length, shape: meta.shape, model: meta.model, trainSeconds: seconds, rows, pool: poolRows, shift, shiftOn: "pool select part" }) + "\n");
    }
    model.dispose();
  }
}

main().catch((e) => {
  console.error(`✖ ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
