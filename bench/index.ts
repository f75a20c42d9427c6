/**
 * Runs every benchmark in bench/ (files named *.bench.ts), one process each, in name order.
 *
 *   npm run bench                 # all
 *   npm run bench -- train        # only benchmarks whose file name contains "train"
 *   npm run bench -- train --vs-torch   # extra flags are passed through to each benchmark
 *   npm run bench -- train-speed --backends wasm --vs-torch   # filters come first; after the first flag,
 *                                                             # all is passed on
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const args = process.argv.slice(2);
// Benchmark filters are the words before the first flag; everything from the first flag on goes to each benchmark,
// so a flag keeps its value ("--backends wasm").
const firstFlag = args.findIndex((a) => a.startsWith("--"));
const filters = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
if (args.includes("--help") || args.includes("-h")) {
  const all = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith(".bench.ts"))
    .sort();
  console.log(
    "usage: npm run bench -- [name filter…] [--flag value…]\n\n" +
      "Runs the benchmarks in bench/ whose file name contains a filter (all without one), one process each.\n" +
      "Everything from the first --flag on is passed to each benchmark (e.g. --vs-torch, --backends wasm).\n\n" +
      `benchmarks:\n${all.map((f) => `  ${f.replace(/\.bench\.ts$/, "")}`).join("\n")}`,
  );
  process.exit(0);
}
const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`✖ usage: no benchmark matches ${filters.join(", ")} (npm run bench -- --help lists them)`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", path.join(__dirname, f), ...flags], {
    stdio: "inherit",
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
