import { test } from "node:test";
import assert from "node:assert/strict";
import { frameTable } from "../../lib/report/display";
import { confusionFrame } from "../../lib/report/tables";

test("confusionFrame: rows actual, columns predicted, rendered as a heat table", () => {
  const df = confusionFrame({ tp: 90, fp: 46, tn: 3619, fn: 39 });
  assert.deepEqual(df.columns, ["predicted normal", "predicted spill"]);
  assert.deepEqual(df.index, ["actual normal", "actual spill"]);
  assert.deepEqual(df.values, [
    [3619, 46],
    [39, 90],
  ]);
  const html = frameTable(df, { heat: true, showIndex: true });
  assert.match(html, /<th>actual spill<\/th><td[^>]*>39<\/td><td[^>]*>90<\/td>/);
  assert.match(html, /background:rgba/);
  assert.throws(() => confusionFrame({ tp: 1, fp: -1, tn: 0, fn: 0 }), /fp must be a non-negative integer/);
});
