import assert from "node:assert/strict";
import { test } from "node:test";
import { indicesOf } from "../../lib/detector/labels";

test("indicesOf: the positions of one label, in order", () => {
  assert.deepEqual(indicesOf([0, 1, 0, 1, 1], 1), [1, 3, 4]);
  assert.deepEqual(indicesOf(Uint8Array.from([0, 0]), 1), []);
});
