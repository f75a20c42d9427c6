// biome-ignore-all lint/suspicious/noExplicitAny: the classic Jupyter page API (window.Jupyter) has no types
/**
 * The notebooks in Jupyter's own UI (issue 13): Debian's classic Notebook server with the project's tslab kernel,
 * driven by playwright-core in Debian chromium. Opens notebook 01 (a copy, so the UI's autosave never touches the
 * tracked file), runs all cells, edits the α cell (ALPHA = 1 → 2), reruns it and checks that the probability table
 * changed. A screenshot goes to reports/screenshots/notebook-ui.png.
 *
 *   npm run build && npm run kernel && npm run test:browser      # needs: apt-get install -y chromium jupyter-notebook
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { CHROMIUM, CHROMIUM_FLAGS } from "../../scripts/charts";

const ROOT = path.resolve(__dirname, "..", "..");
const FLAGS = [...CHROMIUM_FLAGS, "--disable-sync"];
const hasNotebook = spawnSync("jupyter", ["notebook", "--version"], { encoding: "utf8" }).status === 0;
const skip = !fs.existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install -y chromium)`
  : !hasNotebook
    ? "Jupyter's notebook server is missing (apt-get install -y jupyter-notebook)"
    : !fs.existsSync(path.join(ROOT, "dist", "lib", "styles", "index.js"))
      ? "dist/ is not built (npm run build)"
      : false;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

test("notebook 01 in Jupyter's UI: run all, edit α, rerun, the table changes", { skip, timeout: 300_000 }, async () => {
  const dir = path.join(ROOT, "ui-test-notebooks"); // not hidden: the notebook server refuses hidden folders
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(ROOT, "notebooks", "01_styles.ipynb"), path.join(dir, "01_styles.ipynb"));
  const port = await freePort();
  const token = `t${Date.now()}`;
  const server = spawn(
    "jupyter",
    [
      "notebook",
      "--no-browser",
      "--allow-root",
      "--ip=127.0.0.1",
      `--port=${port}`,
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${ROOT}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  server.stdout!.on("data", (d) => (log += d));
  server.stderr!.on("data", (d) => (log += d));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const t0 = Date.now();
    while (!/is running at|Serving notebooks/.test(log)) {
      if (Date.now() - t0 > 60_000) throw new Error(`the notebook server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/notebooks/ui-test-notebooks/01_styles.ipynb?token=${token}`);
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), null, {
      timeout: 120_000,
    });
    const idle = () =>
      page.waitForFunction(
        () =>
          (window as any).Jupyter.notebook.kernel_busy === false &&
          !document.querySelector(".cell .input_prompt")?.textContent?.includes("*"),
        null,
        { timeout: 240_000 },
      );
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    await page.waitForFunction(
      () => [...document.querySelectorAll(".code_cell .input_prompt")].every((p) => !/\*/.test(p.textContent ?? "")),
      null,
      { timeout: 240_000 },
    );
    await idle();
    const alphaCell = () =>
      page.evaluate(() => {
        const cells = (window as any).Jupyter.notebook.get_cells() as any[];
        const i = cells.findIndex((c) => c.cell_type === "code" && /const ALPHA = /.test(c.get_text()));
        return { i, html: cells[i].output_area.element[0].innerText as string };
      });
    const before = await alphaCell();
    assert.ok(before.i >= 0, "notebook 01 has an α cell");
    assert.match(before.html, /α = 1/);
    assert.doesNotMatch(before.html, /Error/);
    await page.evaluate((i) => {
      const cell = (window as any).Jupyter.notebook.get_cell(i);
      cell.set_text(cell.get_text().replace("const ALPHA = 1;", "const ALPHA = 2;"));
      (window as any).Jupyter.notebook.execute_cells([i]);
    }, before.i);
    await page.waitForFunction(
      (i) => /α = 2/.test((window as any).Jupyter.notebook.get_cell(i).output_area.element[0].innerText),
      before.i,
      { timeout: 60_000 },
    );
    const after = await alphaCell();
    assert.notEqual(after.html, before.html, "the table changed");
    assert.match(after.html, /α = 2/);
    fs.mkdirSync(path.join(ROOT, "reports", "screenshots"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, "reports", "screenshots", "notebook-ui.png") });
    await page.evaluate(() => (window as any).Jupyter.notebook.kernel.kill());
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
