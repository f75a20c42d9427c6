/**
 * Metrics speed on 10,000 items (moved here from a timed unit test): AUROC, average precision and a 200-threshold
 * sweep.
 *
 *   npm run bench -- metrics
 */
import { auroc, averagePrecision, metricsVsThreshold } from "../lib/detector/metrics";
import { mulberry32 } from "../lib/common/random";

const rand = mulberry32(5);
const labels = Uint8Array.from({ length: 10_000 }, () => (rand() < 0.05 ? 1 : 0));
const scores = Float32Array.from(labels, (y) => rand() + y);
const time = (label: string, f: () => unknown) => {
  f();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) f();
  console.log(`${label.padEnd(34)} ${((performance.now() - t0) / 20).toFixed(2)} ms`);
};
time("auroc, 10,000 items", () => auroc(labels, scores));
time("averagePrecision, 10,000 items", () => averagePrecision(labels, scores));
time("metricsVsThreshold, 200 thresholds", () =>
  metricsVsThreshold(
    labels,
    scores,
    Array.from({ length: 200 }, (_, i) => i / 100),
  ),
);
