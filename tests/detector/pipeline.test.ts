import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseScoreByRule, PROMOTION_MARGIN, scoreComplexity } from "../../lib/detector/pipeline";
import type { DetectorScore } from "../../lib/detector/detector";

const row = (score: DetectorScore, selection: number) => ({ score, selection });

test("chooseScoreByRule: the best replaces the baseline only by the promotion margin", () => {
  assert.equal(
    chooseScoreByRule([row("zTopKMean", 0.9), row("density", 0.9 + PROMOTION_MARGIN / 2)]).score,
    "zTopKMean",
  );
  const won = chooseScoreByRule([row("zTopKMean", 0.9), row("density", 0.91)]);
  assert.equal(won.score, "density");
  assert.match(won.reason, /\+0\.0100 over zTopKMean/);
});

test("chooseScoreByRule: within the tie margin the simpler score is taken", () => {
  assert.ok(scoreComplexity("density") < scoreComplexity("fusionSum"));
  const c = chooseScoreByRule([row("zTopKMean", 0.8), row("fusionSum", 0.921), row("density", 0.92)]);
  assert.equal(c.score, "density");
  assert.match(c.reason, /simpler/);
  assert.throws(() => chooseScoreByRule([]), /no rows/);
});
