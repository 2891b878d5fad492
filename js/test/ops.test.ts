import { test } from "node:test";
import assert from "node:assert/strict";
import { applyOp, brush, feather, fillHoles, selectRegion, threshold, decodeLoad, unionRect } from "../src/editor/ops";
import { EditHistory } from "../src/editor/history";
import type { MaskBuffer } from "../src/editor/types";

const blank = (w: number, h: number, v = 0): MaskBuffer => ({ width: w, height: h, data: new Uint8Array(w * h).fill(v) });
const rect = (m: MaskBuffer, x0: number, y0: number, x1: number, y1: number, v: number): void => {
  for (let y = y0; y < y1; y++) m.data.fill(v, y * m.width + x0, y * m.width + x1);
};
const count = (m: MaskBuffer, f: (v: number) => boolean): number => m.data.reduce((n, v) => n + (f(v) ? 1 : 0), 0);

test("hard brush dot covers exactly the pixel centres within the radius", () => {
  const m = blank(20, 20);
  brush(m, [10, 10], 4, 1, "add");
  for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) {
    const inside = (x + 0.5 - 10) ** 2 + (y + 0.5 - 10) ** 2 <= 16;
    assert.equal(m.data[y * 20 + x], inside ? 255 : 0, `pixel ${x},${y}`);
  }
});

test("soft brush falls off linearly and erase is the mirror of add", () => {
  const m = blank(40, 9);
  brush(m, [5, 4.5, 35, 4.5], 4, 0.5, "add");
  assert.equal(m.data[4 * 40 + 20], 255); // centre line
  const edge = m.data[1 * 40 + 20]; // 3 px from the line: between inner (2) and radius (4)
  assert.ok(edge > 0 && edge < 255, `soft edge ${edge}`);
  const e = blank(40, 9, 255);
  brush(e, [5, 4.5, 35, 4.5], 4, 0.5, "erase");
  for (let i = 0; i < m.data.length; i++) assert.equal(e.data[i], 255 - m.data[i]);
});

test("keep removes the second object, remove removes the clicked one", () => {
  const m = blank(30, 12);
  rect(m, 2, 2, 10, 10, 255);
  rect(m, 18, 2, 28, 10, 200);
  const k = { ...m, data: m.data.slice() };
  selectRegion(k, 5, 5, true);
  assert.equal(count(k, (v) => v > 0), 64);
  const r = { ...m, data: m.data.slice() };
  selectRegion(r, 5, 5, false);
  assert.equal(count(r, (v) => v > 0), 80);
  assert.equal(selectRegion(m, 0, 0, true), null, "a click on background changes nothing");
});

test("fill holes fills enclosed background only", () => {
  const m = blank(20, 20);
  rect(m, 2, 2, 18, 18, 255);
  rect(m, 6, 6, 10, 10, 0);   // enclosed hole
  rect(m, 0, 12, 5, 14, 0);   // notch open to the border
  fillHoles(m);
  assert.equal(count(m, (v) => v === 255), 16 * 16 - 2 * 3);
});

test("feather keeps flat areas and smooths a step symmetrically", () => {
  const m = blank(21, 5);
  rect(m, 0, 0, 10, 5, 255);
  feather(m, 2);
  assert.equal(m.data[0], 255);
  assert.equal(m.data[20], 0);
  assert.ok(m.data[9] < 255 && m.data[10] > 0);
  assert.equal(m.data[9] + m.data[10], 255);
});

test("threshold binarises", () => {
  const m: MaskBuffer = { width: 4, height: 1, data: Uint8Array.from([0, 99, 100, 255]) };
  threshold(m, 100);
  assert.deepEqual([...m.data], [0, 0, 255, 255]);
});

test("load ops round-trip through zlib", async () => {
  const raw = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
  const z = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
  const data = Buffer.from(z).toString("base64");
  assert.deepEqual(await decodeLoad({ op: "load", w: 8, h: 8, data }), raw);
});

test("history: undo restores bit for bit, redo re-applies, sync adopts another log", async () => {
  const model = Uint8Array.from({ length: 50 * 40 }, (_, i) => (i * 7919) % 256);
  const h = new EditHistory(model, 50, 40);
  await h.push({ op: "threshold", t: 128 });
  const afterThreshold = h.mask.data.slice();
  h.beginStroke({ op: "brush", mode: "erase", radius: 5, hardness: 0.3 }, 10, 10);
  h.extendStroke(30, 20);
  h.extendStroke(40, 35);
  const stroke = h.endStroke();
  assert.ok(stroke && stroke.points.length === 6);
  const afterStroke = h.mask.data.slice();
  await h.push({ op: "feather", radius: 2 });
  h.undo();
  assert.deepEqual(h.mask.data, afterStroke);
  h.undo();
  assert.deepEqual(h.mask.data, afterThreshold);
  h.undo();
  assert.deepEqual(h.mask.data, model);
  await h.redo(); await h.redo();
  assert.deepEqual(h.mask.data, afterStroke);
  // A second history replaying the same log gets the same mask; a divergent log is adopted.
  const other = new EditHistory(model, 50, 40);
  await other.sync(h.ops, h.position);
  assert.deepEqual(other.mask.data, h.mask.data);
  await other.sync([{ op: "invert" }], 1);
  assert.deepEqual(other.mask.data, model.map((v) => 255 - v));
  await other.sync(h.ops, 3);
  const ref = new EditHistory(model, 50, 40);
  for (const op of h.ops) await ref.push(op);
  assert.deepEqual(other.mask.data, ref.mask.data);
});

test("replaceLast coalesces slider drags into one op", async () => {
  const model = Uint8Array.from({ length: 16 }, (_, i) => i * 16);
  const h = new EditHistory(model, 4, 4);
  await h.replaceLast({ op: "threshold", t: 50 });
  await h.replaceLast({ op: "threshold", t: 200 });
  assert.equal(h.ops.length, 1);
  assert.equal(count(h.mask, (v) => v === 255), 3);
  h.undo();
  assert.deepEqual(h.mask.data, model);
});

test("dirty rectangles: a brush reports only what it touched, clipped; union covers both", () => {
  const m = blank(20, 10);
  const r = brush(m, [2.5, 2.5], 1, 1, "add");
  assert.ok(r && r.x0 >= 0 && r.y0 >= 0 && r.x1 <= 6 && r.y1 <= 6, JSON.stringify(r));
  assert.equal(brush(m, [-50, -50], 2, 1, "add"), null, "a stroke outside the mask changes nothing");
  assert.deepEqual(unionRect({ x0: 1, y0: 2, x1: 3, y1: 4 }, { x0: 0, y0: 3, x1: 5, y1: 9 }), { x0: 0, y0: 2, x1: 5, y1: 9 });
  assert.deepEqual(unionRect(null, { x0: 1, y0: 1, x1: 2, y1: 2 }), { x0: 1, y0: 1, x1: 2, y1: 2 });
  assert.equal(unionRect(null, null), null);
});

test("keep/remove on the background change nothing", () => {
  const m = blank(10, 10);
  rect(m, 2, 2, 5, 5, 255);
  const before = m.data.slice();
  assert.equal(selectRegion(m, 8, 8, true), null);
  assert.equal(selectRegion(m, 8, 8, false), null);
  assert.deepEqual(m.data, before);
});

test("applyOp: invert, reset to the model's mask, and a load of the wrong size refused", () => {
  const model = new Uint8Array([0, 100, 200, 255]);
  const m: MaskBuffer = { width: 2, height: 2, data: model.slice() };
  const never = (): Uint8Array => { throw new Error("no load expected"); };
  assert.deepEqual(applyOp(m, { op: "invert" }, model, never), { x0: 0, y0: 0, x1: 2, y1: 2 });
  assert.deepEqual([...m.data], [255, 155, 55, 0]);
  applyOp(m, { op: "reset" }, model, never);
  assert.deepEqual([...m.data], [...model]);
  assert.throws(() => applyOp(m, { op: "load", w: 3, h: 2, data: "" }, model, never), /mask is 3x2, image is 2x2/);
  applyOp(m, { op: "load", w: 2, h: 2, data: "x" }, model, () => new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual([...m.data], [1, 2, 3, 4]);
});
