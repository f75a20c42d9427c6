/**
 * Static PNG figures for the README, from a training run and (when there is one) an evaluation JSON.
 *
 *   npm run charts -- --run runs/final [--evaluation reports/evaluation.json] [--model models/wells-ae]
 *     [--out docs/img]
 *   npm run charts -- --run models/wells-ae        # a promoted model folder carries its log.jsonl
 *
 * Writes into --out (default docs/img):
 *   loss.png, validation-auroc.png        from <run>/log.jsonl
 *   roc.png, pr.png, score-histogram.png, roc-scores.png (every score's ROC),
 *   metrics-vs-threshold.png              from the evaluation JSON (default reports/evaluation.json, written by
 *                                         notebook 04; skipped with a message when absent or unrecognised)
 *   reconstructions.png                   5 validation normals (left) and 5 spills (right), each with the model's
 *                                         reconstruction and error map (--model, default <run>/best), made with sharp
 *
 * The charts are lib/report's specs, the ones the notebooks show, drawn by plotly in headless Chromium: Debian's
 * `chromium` driven by playwright-core (`apt-get install -y chromium`; no browser is ever downloaded).
 * The validation split is recomputed from the model's stored config (lib/detector config: seed and holdout share).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../lib/common/atomic";
import {
  type ChartSpec,
  evaluationCharts,
  lossCurves,
  pickExamples,
  pngGrid,
  readEvaluation,
  reconstructionExamples,
  reconstructionTiles,
  selectImages,
  validationCurves,
} from "../lib/report";
import { loadModel, readModelMetadata } from "../lib/detector/checkpoint";
import { chart, plotlyLoader } from "../lib/report/display";
import { loadCached } from "../lib/detector/image-cache";
import { resolveData } from "../lib/common/paths";
import { reconstruct } from "../lib/detector/predict";
import { initBackend } from "../lib/tf/backend";
import { readRunLog } from "../lib/detector/train";
import { listWells, splitWells } from "../lib/detector/wells";
import { readDetectorConfig } from "../lib/detector/config";
import { parseCommand, runMain, UsageError } from "./options";

export const CHARTS_COMMAND = {
  name: "charts",
  summary:
    "Static PNG figures for the README from a run (or model folder) " +
    "and notebook 04's evaluation file (Debian chromium).",
  usage:
    "npm run charts -- --run <run or model folder> " +
    "[--evaluation reports/evaluation.json] [--model dir] [--out docs/img]",
  options: {
    run: { type: "string", help: "run folder (best/ and log.jsonl) or a promoted model folder (required)" },
    evaluation: { type: "string", help: "evaluation JSON (default reports/evaluation.json when it exists)" },
    model: { type: "string", help: "model folder for the reconstructions (default: the run's)" },
    out: { type: "string", default: "docs/img", help: "folder to write the PNGs into (must exist)" },
  },
} as const;

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];
const WIDTH = 800;
const HEIGHT = 450;

/** Draws ChartSpecs to PNG in one headless Chromium page. */
async function openRenderer() {
  // Required lazily: playwright-core is a devDependency, needed only here.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 2 });
  const loader = plotlyLoader();
  return {
    async render(spec: ChartSpec): Promise<Buffer> {
      const html = chart(spec.traces, { ...spec.options, width: WIDTH, height: HEIGHT });
      await page.setContent(
        `<!doctype html><html><body style="margin:0;width:${WIDTH}px;background:#fff">${loader}${html}</body></html>`,
      );
      // chart() draws as soon as the bundle is there; the plot is done when its SVG exists.
      await page.waitForSelector(".js-plotly-plot .main-svg", { timeout: 20_000 });
      return page.locator(".js-plotly-plot").screenshot({ animations: "disabled" });
    },
    close: () => browser.close(),
  };
}

/** The example-reconstructions grid: per row a normal (input, reconstruction, error), a spacer, a spill (the same). */
async function reconstructionsPng(modelDir: string): Promise<Buffer> {
  // the input size and the validation split the model was trained with, from its stored config
  const {
    height,
    width,
    channels,
    split: s,
  } = readDetectorConfig(readModelMetadata(modelDir), `${modelDir}/model.json`);
  const shape: [number, number, number] = [height, width, channels];
  await initBackend();
  const model = await loadModel(modelDir);
  const split = splitWells(listWells(resolveData("wells")), { holdoutFraction: s.holdout, seed: s.seed });
  const validation = await loadCached(split.validation, { height, width, channels });
  const picked = pickExamples(validation.labels, 5);
  const inputs = selectImages(validation.data, picked, shape as [number, number, number]);
  const recons = await reconstruct(model, inputs, [height, width, channels]);
  model.dispose();
  const examples = reconstructionExamples(
    inputs,
    recons,
    picked.map((i) => validation.labels[i]),
    [height, width, channels],
  );
  const { tiles, max } = await reconstructionTiles(examples, [height, width, channels], { scale: 4 });
  // Per row: a normal's three tiles, a white spacer, a spill's three tiles.
  const spacer = await sharp({ create: { width: 20, height: 1, channels: 3, background: "#ffffff" } })
    .png()
    .toBuffer();
  const rows: (Buffer | null)[][] = [];
  for (let k = 0; k + 1 < tiles.length; k += 2) {
    const [n, s] = [tiles[k], tiles[k + 1]];
    rows.push([n.input, n.recon, n.error, spacer, s.input, s.recon, s.error]);
  }
  const scores = (label: number) =>
    examples
      .filter((e) => e.label === label)
      .map((e) => e.mse.toExponential(2))
      .join(", ");
  console.log(
    `  reconstructions: MSE of the normals ${scores(0)}; of the spills ${scores(1)}; ` +
      `error colour scale 0…${max.toExponential(2)}`,
  );
  const gap = 4;
  const grid = await pngGrid(rows, { gap });
  // Headings over the two groups, when this machine's libvips can render text (it needs a font).
  const spillLeft = gap + 3 * (width * 4 + gap) + 20 + gap;
  const headings = await Promise.all([
    textPng("held-out normals: input · reconstruction · error"),
    textPng(`spills (proliv/): input · reconstruction · error   (error colours 0 … ${max.toExponential(1)}, shared)`),
  ]);
  if (headings.some((h) => h === null)) return grid;
  return sharp(grid)
    .extend({ top: 26, background: "#ffffff" })
    .composite([
      { input: headings[0]!, left: gap, top: 6 },
      { input: headings[1]!, left: spillLeft, top: 6 },
    ])
    .png()
    .toBuffer();
}

/** A line of dark text as a transparent PNG, or null when libvips cannot render text here. */
async function textPng(text: string): Promise<Buffer | null> {
  try {
    return await sharp({ text: { text, font: "sans 13", dpi: 72, rgba: true } })
      .png()
      .toBuffer();
  } catch {
    return null;
  }
}

async function main() {
  const { values } = parseCommand(CHARTS_COMMAND);
  if (!values.run)
    throw new UsageError(
      "name the run folder: npm run charts -- --run runs/<name> [--evaluation reports/evaluation.json] [--model dir]",
    );
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the charts are drawn by headless Chromium. ` +
        "Install it with\n    apt-get install -y chromium",
    );
  }
  const out = values.out!;
  // every figure is drawn first and written only when all succeeded: a failure leaves docs/img as it was
  const pending: { file: string; png: Buffer }[] = [];
  const save = (name: string, png: Buffer) => pending.push({ file: path.join(out, `${name}.png`), png });

  // a promoted model folder (model.json + log.jsonl, no best/) works as --run too
  const modelDir =
    values.model ?? (fs.existsSync(path.join(values.run, "model.json")) ? values.run : path.join(values.run, "best"));
  if (!fs.existsSync(path.join(modelDir, "model.json")))
    throw new UsageError(`no model at ${modelDir}: name --model, or a --run that holds best/ or model.json`);
  if (!fs.existsSync(out)) throw new UsageError(`--out ${out}: no such folder`);
  if (values.evaluation && !fs.existsSync(values.evaluation))
    throw new UsageError(`--evaluation ${values.evaluation}: no such file`);
  const history = readRunLog(values.run);
  const specs: { name: string; spec: ChartSpec }[] = [
    { name: "loss", spec: lossCurves(history) },
    { name: "validation-auroc", spec: validationCurves(history) },
  ];
  const evaluationFile = values.evaluation ?? "reports/evaluation.json";
  if (!fs.existsSync(evaluationFile)) {
    if (values.evaluation) throw new Error(`--evaluation ${evaluationFile}: no such file`);
    console.log(`skipping ROC / PR / score charts: ${evaluationFile} does not exist (notebook 04 writes it)`);
  } else {
    try {
      const figures = evaluationCharts(readEvaluation(evaluationFile));
      const names = figures.charts.map((c) => c.name).join(", ");
      console.log(`evaluation charts from ${evaluationFile} (${figures.source}): ${names}`);
      specs.push(...figures.charts);
    } catch (e) {
      console.log(`skipping ROC / PR / score charts: ${evaluationFile}: ${(e as Error).message}`);
    }
  }

  const renderer = await openRenderer();
  try {
    for (const { name, spec } of specs) save(name, await renderer.render(spec));
  } finally {
    await renderer.close();
  }
  save("reconstructions", await reconstructionsPng(modelDir));
  for (const { file, png } of pending) writeFileAtomic(file, png);
  console.log(`wrote ${pending.length} PNG files:\n  ${pending.map((p) => p.file).join("\n  ")}`);
}

if (require.main === module) runMain(main);
