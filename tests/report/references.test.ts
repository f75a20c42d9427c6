import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateOnTest } from "../../lib/detector/evaluate";
import { chooseThresholds, type StrategySpec } from "../../lib/detector/thresholds";
import { comparisonTable, SEED_RESULTS } from "../../lib/report/references";
import { strategyTable } from "../../lib/report/tables";

// Validation: normals 0.1 … 1.0 (ten), spills 1.5, 2.0. p90 of the normals = 0.91
// (linear interpolation between 0.9 and 1.0).
const VL = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
const VS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0];
// Test: normals 0.5, 0.95, 1.2 and spills 0.8, 1.6. Different scores, so any re-choosing on test would show.
const TL = [0, 0, 0, 1, 1];
const TS = [0.5, 0.95, 1.2, 0.8, 1.6];

const P90: StrategySpec = { id: "p90", strategy: "percentile", options: { percentile: 90 }, label: "90th percentile" };
const F1: StrategySpec = { id: "maxF1", strategy: "maxF1", label: "best F1" };

test("comparisonTable: ours measured, seeds quoted", () => {
  const t = comparisonTable([
    {
      source: "ours",
      metrics: evaluateOnTest(TL, TS, chooseThresholds(VL, VS, { strategies: [F1] })).strategies[0].metrics,
      validationAuroc: 1,
      testAuroc: 0.67,
    },
  ]);
  assert.equal(t.rows.length, 1 + SEED_RESULTS.length);
  assert.equal(t.rows[0][6], "measured here");
  assert.ok(t.rows.slice(1).every((r) => r[6] === "quoted, not measured by us"));
  const seed = t.rows.find((r) => String(r[0]).startsWith("best seed"))!;
  assert.deepEqual(seed.slice(1, 4), [0.6977, 0.9874, 0.6792]);
  assert.equal(strategyTable(chooseThresholds(VL, VS, { strategies: [P90] })).rows[0][0], "p90");
});
