/**
 * Benchmark of the per-pixel avatar model on the course avatars (11 × 528×560 RGBA): decode, fit, and five samples
 * with each sampler, then PNG encoding; wall time and peak memory per stage.
 *
 *   node --expose-gc --import tsx bench/avatars.bench.ts        (or: npm run bench -- avatars)
 *
 * Peak memory: process.memoryUsage() read every 5 ms while a stage runs (catches the async decoding) and at each
 * stage's end (the synchronous stages block the timer); with --expose-gc a collection runs between stages.
 */
import {
  encodePng,
  fitPixelModel,
  loadAvatars,
  modelBytes,
  sampleAvatar,
  type PixelModel,
  type Sampler,
} from "../lib/avatars/avatars";
import { resolveData } from "../lib/common/paths";

const MB = 1024 * 1024;
const COUNT = 5;

interface Row {
  stage: string;
  ms: number;
  rss: number;
  heap: number;
  arrayBuffers: number;
}

async function measure<T>(stage: string, rows: Row[], fn: () => T | Promise<T>): Promise<T> {
  (globalThis as { gc?: () => void }).gc?.();
  const peak = { rss: 0, heap: 0, arrayBuffers: 0 };
  const read = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  const timer = setInterval(read, 5);
  read();
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  read();
  clearInterval(timer);
  rows.push({ stage, ms, rss: peak.rss / MB, heap: peak.heap / MB, arrayBuffers: peak.arrayBuffers / MB });
  return result;
}

async function main() {
  const rows: Row[] = [];
  const dir = resolveData("avatars");
  const set = await measure("decode 11 PNG → RGBA", rows, () => loadAvatars(dir));
  const model: PixelModel = await measure("fit (distinct values + counts)", rows, () => fitPixelModel(set));
  const variants: [string, Sampler, boolean][] = [
    ["weighted", "weighted", false],
    ["uniform", "uniform", false],
    ["weighted, whole pixel", "weighted", true],
    ["uniform, whole pixel", "uniform", true],
  ];
  let samples = [] as ReturnType<typeof sampleAvatar>[];
  for (const [label, sampler, wholePixel] of variants)
    samples = await measure(`sample ${COUNT} (${label})`, rows, () =>
      Array.from({ length: COUNT }, (_, i) => sampleAvatar(model, { sampler, wholePixel, seed: i + 1 })),
    );
  await measure(`encode ${COUNT} PNG`, rows, () => Promise.all(samples.map(encodePng)));

  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number, n: number, d = 1) => v.toFixed(d).padStart(n);
  console.log(
    `${set.images.length} images ${set.width}×${set.height} RGBA, ${set.width * set.height * 4} pixel-channels`,
  );
  console.log(
    `${pad("stage", 34)}${"ms".padStart(9)}${"rss MB".padStart(9)}` +
      `${"heap MB".padStart(9)}${"arrayBuf MB".padStart(13)}`,
  );
  for (const r of rows)
    console.log(`${pad(r.stage, 34)}${num(r.ms, 9)}${num(r.rss, 9)}${num(r.heap, 9)}${num(r.arrayBuffers, 13)}`);
  const pc = model.offsets.length - 1;
  console.log(
    `model arrays: ${(modelBytes(model) / MB).toFixed(1)} MB ` +
      `(images ${((pc * set.images.length) / MB).toFixed(1)} MB, ` +
      `${model.values.length} distinct values = ${(model.values.length / pc).toFixed(2)} per pixel-channel); ` +
      `a 256-bin Uint32 histogram per pixel-channel would be ${((pc * 256 * 4) / MB).toFixed(0)} MB`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
