/**
 * Label-free validation figures of trained runs (experiments/PROTOCOL-3.md), to compare experiments without any
 * test label: for each run and every detector score, proliv-vs-pool AUROC, synthetic-on-pool AUROC (all and per
 * defect kind) and their mean, the selection value; then the score the choice rule takes and its checked threshold.
 *
 *   npm run experiment -- runs/a runs/b                      # best/ checkpoint of each run (or a model folder)
 *   npm run experiment -- models/wells-ae runs/a --out experiments/results-3.jsonl
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ANOMALY_KINDS } from "../lib/detector/synthetic";
import { checkpointDir, evaluateCheckpoint } from "../lib/detector/pipeline";
import { initBackend } from "../lib/tf/backend";
import { parseCommand, runMain, UsageError } from "./options";

export const EXPERIMENT_COMMAND = {
  name: "experiment",
  summary:
    "Label-free validation figures (PROTOCOL-3) of trained runs: " +
    "every score's selection value, the choice and its threshold.",
  usage: "npm run experiment -- <run or model folder…> [--out experiments/results-3.jsonl]",
  positionals: { min: 1, name: "run folders" },
  options: {
    out: { type: "string", help: "append one JSON line per run to this file (its folder must exist)" },
    data: { type: "string", help: "dataset folder (default: data/wells or ../shared/data/wells)" },
  },
} as const;

async function main() {
  const { values, positionals } = parseCommand(EXPERIMENT_COMMAND);
  for (const p of positionals) if (!fs.existsSync(p)) throw new UsageError(`no such run folder: ${p}`);
  const dirs = positionals.map(checkpointDir);
  if (values.out && !fs.existsSync(path.dirname(path.resolve(values.out))))
    throw new UsageError(`--out ${values.out}: folder ${path.dirname(values.out)} does not exist`);
  await initBackend();
  for (const [k, dir] of dirs.entries()) {
    const t0 = Date.now();
    const ev = await evaluateCheckpoint(dir, { data: values.data, onMessage: (t) => console.log(`  ${t}`) });
    const meta = ev.metadata as { epoch?: number; model?: Record<string, unknown> };
    console.log(`\n${positionals[k]} (${dir}): epoch ${meta.epoch}, model ${JSON.stringify(meta.model)}`);
    console.log(["score", "proliv vs pool", "synthetic on pool", ...ANOMALY_KINDS, "selection"].join("\t"));
    for (const r of ev.rows)
      console.log(
        [r.score, r.aurocProliv, r.aurocSynthetic, ...ANOMALY_KINDS.map((kd) => r.aurocByKind[kd]), r.selection]
          .map((v) => (typeof v === "number" ? v.toFixed(4) : v))
          .join("\t"),
      );
    console.log(
      `choice: ${ev.choice.score} (${ev.choice.reason}); ` +
        `threshold ${ev.threshold.threshold.toPrecision(5)} by ${ev.threshold.rule}: ${ev.threshold.reason}`,
    );
    console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (values.out)
      fs.appendFileSync(
        values.out,
        `${JSON.stringify({
          run: positionals[k],
          dir,
          epoch: meta.epoch,
          model: meta.model,
          rows: ev.rows,
          choice: ev.choice,
          threshold: ev.threshold,
          at: new Date().toISOString(),
        })}\n`,
      );
    ev.detector.model.dispose();
  }
}

if (require.main === module) runMain(main);
