import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateOnTest } from "../../lib/detector/evaluate";
import { chooseThresholds } from "../../lib/detector/thresholds";
import { comparisonTable, SEED_RESULTS } from "../../lib/report/references";
import { strategyTable } from "../../lib/report/tables";
import { F1, P90, TL, TS, VL, VS } from "../helpers/thresholds";

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
