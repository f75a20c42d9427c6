/**
 * The detector is not a wells special: train → promote → score through the real CLI on a small generated one-class
 * folder (train/good/ of grey and colour PNGs at odd sizes, an unlabelled test/ pool, no proliv/), at another input
 * size.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { mulberry32 } from "../../lib/common/random";
import { auroc } from "../../lib/detector/metrics";

const ROOT = path.resolve(__dirname, "..", "..");

async function texture(file: string, seed: number, anomaly: boolean, grey: boolean) {
  const rand = mulberry32(seed);
  const w = 37 + (seed % 5),
    h = 29 + (seed % 3),
    c = grey ? 1 : 3;
  const px = Buffer.alloc(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const blob = anomaly && (x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 3) ** 2;
      for (let k = 0; k < c; k++) px[(y * w + x) * c + k] = blob ? 235 : Math.round(90 + 60 * rand() + 10 * k);
    }
  const img = sharp(px, { raw: { width: w, height: h, channels: c } });
  await (grey ? img.toColourspace("b-w") : img).png().toFile(file);
}

function run(script: string, args: string[]) {
  return execFileSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", script), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: "pipe",
    env: { ...process.env, IMAGE_CACHE_DIR: path.join(os.tmpdir(), "one-class-cache") },
  });
}

test(
  "train, promote and score run on a generic one-class folder (grey and colour, odd sizes, no proliv/)",
  { timeout: 240_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "one-class-"));
    fs.mkdirSync(path.join(dir, "train", "good"), { recursive: true });
    fs.mkdirSync(path.join(dir, "test"));
    for (let i = 0; i < 80; i++) await texture(path.join(dir, "train", "good", `n${i}.png`), i, false, i % 4 === 0);
    const poolLabels: number[] = [];
    for (let i = 0; i < 60; i++) {
      const anomaly = i % 10 === 0;
      poolLabels.push(anomaly ? 1 : 0);
      await texture(path.join(dir, "test", `p${String(i).padStart(2, "0")}.png`), 1000 + i, anomaly, i % 3 === 0);
    }
    const runDir = path.join(dir, "run"),
      model = path.join(dir, "model"),
      out = path.join(dir, "scores.csv");
    const trained = run("train.ts", [
      "--data",
      dir,
      "--run",
      runDir,
      "--size",
      "16x24",
      "--filters",
      "4,8",
      "--epochs",
      "2",
      "--batch",
      "16",
      "--workers",
      "1",
    ]);
    assert.match(trained, /\d+ grey and \d+ colour training images: grey ones are expanded to 3 channels/);
    const promoted = run("promote.ts", [runDir, "--data", dir, "--to", model]);
    assert.match(promoted, /threshold .* \((pool5|referenceQuantile)\)/);
    for (const f of ["model.json", "weights.bin", "density.json", "fusion.json"])
      assert.ok(fs.existsSync(path.join(model, f)), f);
    assert.throws(
      () => run("promote.ts", [runDir, "--data", dir, "--to", model]),
      /already holds a model; add --replace/,
    );
    run("score.ts", [path.join(dir, "test"), "--model", model, "--out", out]);
    const rows = fs
      .readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    assert.equal(rows.length, 60);
    const scores = rows.map((r) => Number(r[1]));
    assert.ok(scores.every(Number.isFinite));
    assert.ok(auroc(poolLabels, scores) > 0.9, `AUROC ${auroc(poolLabels, scores)} on the generated pool`);
  },
);
