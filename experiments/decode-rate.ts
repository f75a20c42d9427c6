/**
 * How fast sharp decodes and resizes the course's crops to 32×48×3 with lib/wells' decoder, by how many files are in
 * flight (README, Performance: the end-to-end limit of npm run score). 2,000 crops of train/; writes nothing.
 *
 *   node --import tsx experiments/decode-rate.ts > experiments/decode-rate.log
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveData } from "../lib/common/paths";
import { decodeImagePixels } from "../lib/detector/wells";

(async () => {
  const dir = path.join(resolveData("wells"), "train");
  const files = fs
    .readdirSync(dir)
    .sort()
    .slice(0, 2000)
    .map((f) => path.join(dir, f));
  for (const inflight of [1, 8, 32, 64]) {
    const t = performance.now();
    for (let i = 0; i < files.length; i += inflight)
      await Promise.all(
        files.slice(i, i + inflight).map((f) => decodeImagePixels(f, { height: 32, width: 48, channels: 3 })),
      );
    console.log(`${inflight} in flight: ${(files.length / ((performance.now() - t) / 1000)).toFixed(0)} img/s`);
  }
})();
