/**
 * A browsable record of the last full run, kept in the repository (issue 13): `docs/results/` gets each report of
 * `reports/` with its inlined Plotly bundle replaced by one shared `plotly.min.js` beside them (so a rerun changes
 * kilobytes of data, not 1.5 MB of bundle per report), nbconvert's template styles in one shared `jupyter.css`,
 * the screenshots of the browser test, and an index that a code host renders (the README links it). Run after
 * `npm run reports` (and `npm run test:browser` for the screenshots).
 *
 *   npm run reports && npm run test:browser && npm run publish-results
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../lib/common/atomic";
import { projectRoot } from "../lib/common/paths";
import { parseCommand, runMain, UsageError } from "./options";

export const PUBLISH_COMMAND = {
  name: "publish-results",
  summary: "Copy reports/ into docs/results/ with one shared Plotly bundle, the screenshots and an index.",
  usage: "npm run publish-results [-- --out docs/results]",
  options: { out: { type: "string", default: "docs/results", help: "folder to write (created)" } },
} as const;

const BUNDLE = /<script type="text\/javascript">\/\*\*\s*\* plotly\.js[\s\S]*?<\/script>/;
/** nbconvert's template styles, the same in every report: moved to one shared jupyter.css when they match. */
const headStyles = (html: string) =>
  (html.split("</head>")[0].match(/<style[^>]*>[\s\S]*?<\/style>/g) ?? []).join("\n");

async function main() {
  const { values } = parseCommand(PUBLISH_COMMAND);
  const reports = path.join(projectRoot, "reports");
  const files = fs.existsSync(reports)
    ? fs
        .readdirSync(reports)
        .filter((f) => f.endsWith(".html"))
        .sort()
    : [];
  if (files.length === 0) throw new UsageError("reports/ holds no .html reports: run npm run reports first");
  const out = path.resolve(values.out);
  fs.mkdirSync(path.join(out, "screenshots"), { recursive: true });
  fs.copyFileSync(require.resolve("plotly.js-cartesian-dist-min"), path.join(out, "plotly.min.js"));
  const rows: string[] = [];
  const css = headStyles(fs.readFileSync(path.join(reports, files[0]), "utf8"));
  writeFileAtomic(path.join(out, "jupyter.css"), css.replace(/<\/?style[^>]*>/g, "\n"));
  for (const f of files) {
    const html = fs.readFileSync(path.join(reports, f), "utf8");
    let shared = html.replace(BUNDLE, '<script type="text/javascript" src="plotly.min.js"></script>');
    if (headStyles(shared) === css) {
      const [head, ...rest] = shared.split("</head>");
      shared =
        head
          .replace(/<style[^>]*>[\s\S]*?<\/style>/g, "")
          .replace(/<\/title>/, '</title>\n<link rel="stylesheet" href="jupyter.css">') +
        "</head>" +
        rest.join("</head>");
    }
    writeFileAtomic(path.join(out, f), shared);
    const shot = path.join(reports, "screenshots", f.replace(/\.html$/, ".png"));
    if (fs.existsSync(shot)) fs.copyFileSync(shot, path.join(out, "screenshots", path.basename(shot)));
    rows.push(
      `| [${f.replace(/\.html$/, "")}](${f}) | ${(Buffer.byteLength(shared) / 1024).toFixed(0)} kB | ` +
        `${fs.existsSync(shot) ? `![${f}](screenshots/${path.basename(shot)})` : ""} |`,
    );
  }
  for (const extra of ["threshold-slider.png", "notebook-ui.png"]) {
    const p = path.join(reports, "screenshots", extra);
    if (fs.existsSync(p)) fs.copyFileSync(p, path.join(out, "screenshots", extra));
  }
  const evalFile = path.join(reports, "evaluation.json");
  let headline = "";
  if (fs.existsSync(evalFile)) {
    const e = JSON.parse(fs.readFileSync(evalFile, "utf8"));
    const pick = (
      list: {
        score: string;
        test: {
          auroc: number;
          averagePrecision: number;
          strategies: { id: string; metrics?: Record<string, number> }[];
        };
      }[],
    ) => {
      const s = list.find((x) => x.score === e.primary.score)!;
      const m = s.test.strategies.find((x) => x.id === e.primary.strategy)!.metrics!;
      return (
        `TPR ${m.tpr.toFixed(3)}, TNR ${m.tnr.toFixed(3)}, precision ${m.precision.toFixed(3)}, ` +
        `F1 ${m.f1.toFixed(3)}, AUROC ${s.test.auroc.toFixed(4)}, AP ${s.test.averagePrecision.toFixed(3)} ` +
        `(TP ${m.tp}, FN ${m.fn}, FP ${m.fp}, TN ${m.tn})`
      );
    };
    const primary = (e.scores as { score: string; validation: { choices: { id: string; note?: string }[] } }[]).find(
      (x) => x.score === e.primary.score,
    );
    const note = primary?.validation.choices.find((c) => c.id === e.primary.strategy)?.note;
    headline =
      `Detector: score \`${e.primary.score}\`, threshold \`${e.primary.strategy}\`${note ? ` (${note})` : ""}, ` +
      "chosen without test labels (experiments/PROTOCOL-3.md).\n\n" +
      `- report part of the test set: ${pick(e.scores)}\n- whole test set: ${pick(e.wholeTest)}\n`;
  }
  const index =
    "# Results of the last full run\n\n" +
    `Written by \`npm run publish-results\` on ${new Date().toISOString().slice(0, 10)} from \`reports/\`. ` +
    "Open a report in a browser (it loads `plotly.min.js` from this folder; " +
    "`reports/` itself holds fully self-contained copies). " +
    `${headline ? `\n\n${headline}` : ""}\n| report | size | first screen |\n|---|---|---|\n` +
    `${rows.join("\n")}\n\n` +
    `${
      fs.existsSync(path.join(out, "screenshots", "threshold-slider.png"))
        ? "Notebook 04's threshold slider:\n\n![threshold slider](screenshots/threshold-slider.png)\n\n"
        : ""
    }` +
    `${
      fs.existsSync(path.join(out, "screenshots", "notebook-ui.png"))
        ? "Notebook 01 rerun in Jupyter's UI with α = 2 (tests/browser/notebook-ui.test.ts):\n\n" +
          "![notebook UI](screenshots/notebook-ui.png)\n"
        : ""
    }`;
  writeFileAtomic(path.join(out, "README.md"), index);
  console.log(`wrote ${files.length} reports, the shared bundle and an index to ${path.relative(projectRoot, out)}`);
}

if (require.main === module) runMain(main);
