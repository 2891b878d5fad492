import { test } from "node:test";
import assert from "node:assert/strict";
import { EditHistory } from "../src/editor/history";
import { applyOp } from "../src/editor/ops";
import type { EditOp } from "../src/editor/types";

// A stand-in for the editor worker: the same applyOp on a copy, answered asynchronously.
const later = (op: EditOp, m: { width: number; height: number; data: Uint8Array }) =>
  new Promise<{ data: Uint8Array; dirty: ReturnType<typeof applyOp> }>((res) => setTimeout(() => {
    const copy = { ...m, data: m.data.slice() };
    res({ data: copy.data, dirty: applyOp(copy, op, new Uint8Array(0), () => { throw new Error("no load"); }) });
  }, 1));

test("heavy ops run by a runner give the same masks, undo and redo as running them here", async () => {
  const w = 60, h = 40;
  const model = new Uint8Array(w * h);
  for (let y = 8; y < 32; y++) for (let x = 6; x < 26; x++) model[y * w + x] = 200;
  for (let y = 14; y < 20; y++) for (let x = 12; x < 18; x++) model[y * w + x] = 0; // a hole
  for (let y = 10; y < 20; y++) for (let x = 40; x < 52; x++) model[y * w + x] = 150;
  const ops: EditOp[] = [{ op: "fill" }, { op: "threshold", t: 128 }, { op: "feather", radius: 2 }, { op: "keep", x: 10, y: 10 }, { op: "invert" }];
  const here = new EditHistory(model, w, h);
  const there = new EditHistory(model, w, h);
  there.runner = later;
  there.heavy = new Set(["threshold", "fill", "feather", "keep", "remove", "invert"]);
  const masks: Uint8Array[] = [model.slice()];
  for (const op of ops) {
    await here.push(op);
    const before = there.mask.data.slice();
    const pending = there.push(op);
    assert.deepEqual(there.mask.data, before, "the mask changes only when the result is back");
    await pending;
    assert.deepEqual(there.mask.data, here.mask.data, `after ${op.op}`);
    masks.push(there.mask.data.slice());
  }
  assert.ok(masks[1][16 * w + 14] === 255, "the hole was filled");
  for (let i = ops.length - 1; i >= 0; i--) { there.undo(); assert.deepEqual(there.mask.data, masks[i]); }
  for (let i = 1; i <= ops.length; i++) { await there.redo(); assert.deepEqual(there.mask.data, masks[i]); }
  const synced = new EditHistory(model, w, h);
  synced.runner = later;
  synced.heavy = there.heavy;
  await synced.sync(ops, 3);
  assert.deepEqual(synced.mask.data, masks[3]);
});
