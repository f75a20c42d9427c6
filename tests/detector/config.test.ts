import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDetectorConfig, configDiff, DETECTOR_CONFIG, readDetectorConfig } from "../../lib/detector/config";

test("configDiff: names each differing field, nested ones dotted, in sorted order", () => {
  const now = { ...DETECTOR_CONFIG, filters: [16, 32, 64], split: { seed: 1, holdout: 0.2 } };
  assert.deepEqual(configDiff(DETECTOR_CONFIG, now), ["filters: [32,64,128] → [16,32,64]", "split.holdout: 0.1 → 0.2"]);
  assert.deepEqual(configDiff(DETECTOR_CONFIG, { ...DETECTOR_CONFIG }), []);
  assert.deepEqual(configDiff({ a: 1 }, { a: 1, b: { c: 2 } }), ["b.c: unset → 2"]);
});

test("checkDetectorConfig: each bad field is named with what is allowed", () => {
  assert.equal(checkDetectorConfig({ ...DETECTOR_CONFIG }).height, 32);
  const bad = (patch: object, re: RegExp) =>
    assert.throws(() => checkDetectorConfig({ ...DETECTOR_CONFIG, ...patch } as never, "runs/a"), re);
  bad({ height: 0 }, /runs\/a: height must be a whole number ≥ 1, got 0/);
  bad({ channels: 2 }, /channels must be 1 or 3, got 2/);
  bad({ kind: "gan" }, /kind must be one of ae, vae, got gan/);
  bad({ blocks: "resnet" }, /blocks must be one of plain, bn-leaky/);
  bad({ filters: [] }, /filters must be whole numbers ≥ 1/);
  bad({ split: { seed: -1, holdout: 0.1 } }, /split\.seed must be a whole number ≥ 0, got -1/);
  bad({ split: { seed: 1, holdout: 1 } }, /split\.holdout must be in \[0, 1\), got 1/);
  bad({ threshold: "median" }, /threshold must be one of .*checkedPool, got median/);
});

test("readDetectorConfig: the stored config, or one rebuilt from an older model's fields (marked legacy)", () => {
  const stored = { ...DETECTOR_CONFIG, channels: 1, split: { seed: 7, holdout: 0.2 }, score: "density" };
  const c = readDetectorConfig({ config: stored, shape: [32, 48, 3] });
  assert.equal(c.channels, 1);
  assert.deepEqual(c.split, { seed: 7, holdout: 0.2 });
  assert.equal(c.legacy, undefined);
  const old = readDetectorConfig({
    shape: [16, 24, 3],
    score: "zTopKMean",
    model: { filters: [8, 16], seed: 3, blocks: "bn-leaky", kind: "ae" },
  });
  assert.deepEqual(
    { h: old.height, w: old.width, f: old.filters, s: old.split, score: old.score, b: old.blocks, legacy: old.legacy },
    { h: 16, w: 24, f: [8, 16], s: { seed: 3, holdout: 0.1 }, score: "zTopKMean", b: "bn-leaky", legacy: true },
  );
  assert.throws(() => readDetectorConfig({}, "models/x/model.json"), /models\/x\/model\.json: no config and no input/);
  assert.throws(() => readDetectorConfig({ config: { ...stored, height: -1 } }), /config: height must be/);
});
