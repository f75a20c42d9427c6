// Where the report-part AUROC is lost (README Results, point 4), from reports/evaluation.json after notebook 04's one
// evaluation: each spill's share of normals scoring below it, the spills below 90 % of the normals, the lowest
// histogram bin, and the AUROC if every other spill were ranked above every normal. Chooses nothing.
// Run: node --import tsx experiments/ranking-gap.ts [reports/evaluation.json]   (output: ranking-gap.log)
import * as fs from "node:fs";

const file = process.argv[2] ?? "reports/evaluation.json";
if (!fs.existsSync(file)) throw new Error(`${file} is missing: run notebook 04 first (npm run reports -- 04)`);
const e = JSON.parse(fs.readFileSync(file, "utf8"));
const { labels, scores, score } = e.primaryScores.test as { labels: number[]; scores: number[]; score: string };
const normals = scores.filter((_, i) => labels[i] === 0).sort((a, b) => a - b);
const spills = scores.filter((_, i) => labels[i] === 1);
// share of normals below a spill, ties counted half (so the mean is the AUROC)
const below = spills.map((s) => normals.reduce((n, x) => n + (x < s ? 1 : x === s ? 0.5 : 0), 0) / normals.length);
const auroc = below.reduce((a, b) => a + b, 0) / below.length;
const low = below.filter((b) => b < 0.9).sort((a, b) => a - b);
const ceiling = (low.reduce((a, b) => a + b, 0) + (below.length - low.length)) / below.length;
const h = e.scores.find((s: { score: string }) => s.score === score).test.histogram;
console.log(
  `${e.testPart ? "report part" : "test"}: ${normals.length} normals, ${spills.length} spills, ` +
    `score ${score}, AUROC ${auroc.toFixed(4)}`,
);
console.log(
  `spills outscored by 10 % or more of the normals: ${low.length} ` +
    `(share of normals below each: ${low.map((b) => b.toFixed(3)).join(", ")})`,
);
console.log(
  `lowest histogram bin: ${h.spill[0]} of ${spills.length} spills, ` +
    `${((100 * h.normal[0]) / normals.length).toFixed(1)} % of the normals`,
);
console.log(`AUROC if every other spill were ranked above every normal: ${ceiling.toFixed(4)}`);
