/**
 * The main job: executes every notebook in notebooks/ headless with the project's tslab kernel and writes
 * self-contained HTML reports (plus the executed .ipynb) to reports/.
 *
 *   npm run reports                 # all notebooks
 *   npm run reports -- 01 03        # only notebooks whose name contains "01" or "03"
 *
 * Environment: QUICK=1 makes the training notebooks take their short path (CI sets it); data paths: see lib/paths.ts.
 * A failing cell stops the job with the notebook, the cell number and the error.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../lib/common/paths";
import { installKernel, jupyterAvailable, JUPYTER_INSTALL_HINT } from "./install-kernel";
import { numberCells, renderMath, selfContained } from "./report-html";

interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; ename?: string; evalue?: string }[];
}

const cellSource = (c: NotebookCell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

function run(cmd: string, args: string[], label: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: projectRoot, stdio: ["ignore", "inherit", "pipe"], env: process.env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d.toString()));
    const started = Date.now();
    const timer = setInterval(() => {
      console.log(`  … ${label} still running (${Math.round((Date.now() - started) / 1000)} s)`);
    }, 30_000);
    child.on("close", (code) => {
      clearInterval(timer);
      resolve({ code: code ?? 1, stderr });
    });
  });
}

/** Which cell failed: nbconvert prints the failing cell's source; find it among the notebook's code cells. */
function describeFailure(notebookPath: string, stderr: string): string {
  const cells: NotebookCell[] = JSON.parse(fs.readFileSync(notebookPath, "utf8")).cells;
  const m = stderr.match(/An error occurred while executing the following cell:\n-+\n([\s\S]*?)\n-+\n/);
  let where = "an unknown cell";
  if (m) {
    const idx = cells.findIndex((c) => c.cell_type === "code" && cellSource(c).trim() === m[1].trim());
    if (idx >= 0)
      where = `cell ${idx + 1} (code cell starting "${cellSource(cells[idx]).split("\n")[0].slice(0, 80)}")`;
  }
  const tail = stderr
    .split("\n")
    .filter((l) => l.trim())
    .slice(-25)
    .join("\n");
  return `${path.relative(projectRoot, notebookPath)} failed in ${where}\n${tail}`;
}

async function main() {
  if (!jupyterAvailable()) {
    console.error(JUPYTER_INSTALL_HINT);
    process.exit(1);
  }
  installKernel();
  const filters = process.argv.slice(2);
  const nbDir = path.join(projectRoot, "notebooks");
  const notebooks = fs
    .readdirSync(nbDir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort();
  if (notebooks.length === 0) throw new Error(`no notebooks in ${nbDir} match ${filters.join(", ")}`);
  const outDir = path.join(projectRoot, "reports");
  fs.mkdirSync(outDir, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(outDir, ".run-"));
  try {
    for (const nb of notebooks) await runNotebook(nb, nbDir, outDir, tmpDir);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Execute one notebook into tmpDir, check its outputs, export HTML, then move both into reports/. */
async function runNotebook(nb: string, nbDir: string, outDir: string, tmpDir: string) {
  const started = Date.now();
  const name = nb.replace(/\.ipynb$/, "");
  const src = path.join(nbDir, nb);
  console.log(`▶ ${nb}`);
  const exec = await run(
    "jupyter",
    [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=tslab",
      "--ExecutePreprocessor.timeout=1800",
      "--output-dir",
      tmpDir,
      "--output",
      `${name}.ipynb`,
      src,
    ],
    nb,
  );
  if (exec.code !== 0) throw new Error(describeFailure(src, exec.stderr));
  const executed = path.join(tmpDir, `${name}.ipynb`);
  const cells: NotebookCell[] = JSON.parse(fs.readFileSync(executed, "utf8")).cells;
  const code = cells.filter((c) => c.cell_type === "code");
  const outputs = code.reduce((n, c) => n + (c.outputs?.length ?? 0), 0);
  const errors = code.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === "error"));
  if (errors.length > 0) throw new Error(`${nb}: ${errors[0].ename}: ${errors[0].evalue}`);
  if (outputs === 0) throw new Error(`${nb}: executed but produced no output at all`);
  // execution counts in the executed notebook; maths rendered in a copy exported to HTML (the .ipynb keeps its LaTeX)
  const executedJson = numberCells(JSON.parse(fs.readFileSync(executed, "utf8")));
  fs.writeFileSync(executed, JSON.stringify(executedJson, null, 1));
  const forHtml = path.join(tmpDir, "html", `${name}.ipynb`);
  fs.mkdirSync(path.dirname(forHtml), { recursive: true });
  fs.writeFileSync(forHtml, JSON.stringify(renderMath(executedJson)));
  const html = await run("jupyter", ["nbconvert", "--to", "html", "--output-dir", tmpDir, forHtml], `${nb} → html`);
  if (html.code !== 0) throw new Error(`${nb}: HTML export failed\n${html.stderr}`);
  const htmlFile = path.join(tmpDir, `${name}.html`);
  fs.writeFileSync(htmlFile, selfContained(fs.readFileSync(htmlFile, "utf8")));
  for (const ext of ["ipynb", "html"])
    fs.renameSync(path.join(tmpDir, `${name}.${ext}`), path.join(outDir, `${name}.${ext}`));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`✔ ${nb}: ${code.length} code cells, ${outputs} outputs, ${seconds} s → reports/${name}.html`);
}

main().catch((e) => {
  console.error(`✖ ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
