import { test } from "node:test";
import assert from "node:assert/strict";
import { maskParity, parityFailure } from "../src/engine/parity";

const limits = { min_iou: 0.98, max_mae: 4 };

test("identical masks pass; empty masks count as IoU 1", () => {
  const m = new Uint8Array([0, 255, 200, 10]);
  assert.deepEqual(maskParity(m, m), { iou: 1, mae: 0 });
  assert.equal(parityFailure(new Uint8Array(9), new Uint8Array(9), limits), null);
});

test("an inverted or shifted mask fails and says why", () => {
  const want = new Uint8Array(100).fill(0, 0, 50).fill(255, 50);
  const inverted = want.map((v) => 255 - v);
  assert.match(parityFailure(inverted, want, limits) ?? "", /IoU 0\.0000 < 0\.98.*MAE 255\.00 > 4/);
  const slightlyOff = want.map((v) => Math.max(0, v - 3));
  assert.equal(parityFailure(slightlyOff, want, limits), null);
  assert.match(parityFailure(new Uint8Array(99), want, limits) ?? "", /99 pixels, expected 100/);
});
