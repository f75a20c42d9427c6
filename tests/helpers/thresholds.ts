/**
 * The small validation/test fixture the threshold, evaluation and report tests share, and their float comparison.
 * Validation: normals 0.1 … 1.0 (ten), spills 1.5, 2.0; p90 of the normals = 0.91 (linear interpolation between 0.9
 * and 1.0). Test: normals 0.5, 0.95, 1.2 and spills 0.8, 1.6 — different scores, so any re-choosing on test would show.
 */
import assert from "node:assert/strict";
import type { StrategySpec } from "../../lib/detector/thresholds";

export const VL = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
export const VS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0];
export const TL = [0, 0, 0, 1, 1];
export const TS = [0.5, 0.95, 1.2, 0.8, 1.6];

export const P90: StrategySpec = {
  id: "p90",
  strategy: "percentile",
  options: { percentile: 90 },
  label: "90th percentile",
};
export const F1: StrategySpec = { id: "maxF1", strategy: "maxF1", label: "best F1" };

/** `actual` is a number within `eps` of `expected`. */
export const close = (actual: number | null, expected: number, eps = 1e-12) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);
