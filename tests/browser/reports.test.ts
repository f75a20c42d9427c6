/**
 * The exported reports in a real browser (issue 13), offline: Debian's chromium driven by playwright-core, every
 * request that is not a file: URL blocked. For each reports/*.html: every Plotly chart drew, no console error, no
 * blocked request; in notebook 04's report the threshold slider changes the confusion matrix, and the page's numbers
 * equal lib/metrics' at several thresholds. Screenshots go to reports/screenshots/.
 *
 *   npm run reports && npm run test:browser        # needs: apt-get install -y chromium
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { metricsAtThreshold } from "../../lib/detector/metrics";
import { CHROMIUM, CHROMIUM_FLAGS } from "../../scripts/charts";

const ROOT = path.resolve(__dirname, "..", "..");
const REPORTS = path.join(ROOT, "reports");
const FLAGS = [...CHROMIUM_FLAGS, "--disable-sync"];
const reports = fs.existsSync(REPORTS)
  ? fs
      .readdirSync(REPORTS)
      .filter((f) => f.endsWith(".html"))
      .sort()
  : [];
const skip = !fs.existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install -y chromium)`
  : reports.length === 0
    ? "no reports/*.html (run npm run reports first)"
    : false;

test(
  "every report renders offline: charts drawn, no console error, nothing loaded from outside the file",
  { skip, timeout: 300_000 },
  async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    fs.mkdirSync(path.join(REPORTS, "screenshots"), { recursive: true });
    try {
      for (const file of reports) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [],
          blocked: string[] = [];
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.route("**/*", (route) =>
          route.request().url().startsWith("file:")
            ? route.continue()
            : (blocked.push(route.request().url()), route.abort()),
        );
        await page.goto(`file://${path.join(REPORTS, file)}`, { waitUntil: "load", timeout: 120_000 });
        const charts = await page
          .locator("div[id^='chart-'], div[id^='thr-'][id*='-hist-'], div[id^='thr-'][id*='-curve-']")
          .count();
        await page.waitForFunction((n) => document.querySelectorAll(".js-plotly-plot .main-svg").length >= n, charts, {
          timeout: 60_000,
        });
        assert.deepEqual(errors, [], `${file}: console errors`);
        assert.deepEqual(blocked, [], `${file}: requests outside the file`);
        assert.equal(await page.locator("text=In [ ]").count(), 0, `${file}: cells without execution counts`);
        await page.screenshot({
          path: path.join(REPORTS, "screenshots", file.replace(/\.html$/, ".png")),
          fullPage: false,
        });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  },
);

test(
  "notebook 04's threshold slider: the matrix changes, and the page's figures equal lib/metrics'",
  { skip: skip || (!reports.includes("04_threshold_analysis.html") && "no notebook 04 report"), timeout: 120_000 },
  async () => {
    const evaluation = JSON.parse(fs.readFileSync(path.join(REPORTS, "evaluation.json"), "utf8"));
    const sets = [evaluation.primaryScores.validation, evaluation.primaryScores.test] as {
      labels: number[];
      scores: number[];
    }[];
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.route("**/*", (route) =>
        route.request().url().startsWith("file:") ? route.continue() : route.abort(),
      );
      await page.goto(`file://${path.join(REPORTS, "04_threshold_analysis.html")}`, { waitUntil: "load" });
      const slider = page.locator(".thr-explorer input[type=range]");
      const max = Number(await slider.getAttribute("max"));
      const read = () =>
        page.evaluate(() =>
          [...document.querySelectorAll(".thr-explorer table.thr-set")].map((t) =>
            Object.fromEntries(
              [...t.querySelectorAll("[data-k]")].map((c) => [c.getAttribute("data-k"), Number(c.textContent)]),
            ),
          ),
        );
      const before = await read();
      const seen = new Set<string>();
      for (const k of [
        0,
        Math.floor(max * 0.05),
        Math.floor(max * 0.1),
        Math.floor(max * 0.3),
        Math.floor(max * 0.7),
        max,
      ]) {
        await slider.evaluate((el, v) => {
          (el as HTMLInputElement).value = String(v);
          el.dispatchEvent(new Event("input"));
        }, k);
        const t = Number(await slider.getAttribute("data-threshold"));
        const page_ = await read();
        sets.forEach((s, i) => {
          // the page holds the scores to 7 significant digits: compare away from ties
          const m = metricsAtThreshold(
            s.labels,
            s.scores.map((v) => +v.toPrecision(7)),
            t,
          );
          for (const key of ["tp", "fp", "tn", "fn"] as const)
            assert.equal(page_[i][key], m[key], `set ${i}, threshold ${t}: ${key}`);
          for (const key of ["tpr", "tnr", "precision", "f1"] as const)
            if (Number.isFinite(m[key]))
              assert.ok(
                Math.abs(page_[i][key] - m[key]) < 1e-4,
                `set ${i}, threshold ${t}: ${key} ${page_[i][key]} vs ${m[key]}`,
              );
        });
        seen.add(JSON.stringify(page_));
      }
      assert.ok(
        (seen.size > 2 && !seen.has(JSON.stringify(before))) || seen.size > 3,
        "moving the slider changes the matrix",
      );
      await page
        .locator(".thr-explorer")
        .first()
        .screenshot({ path: path.join(REPORTS, "screenshots", "threshold-slider.png") });
    } finally {
      await browser.close();
    }
  },
);
