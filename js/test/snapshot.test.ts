import { test } from "node:test";
import assert from "node:assert/strict";
import { renderSnapshot, snapshotStep } from "../src/editor/snapshot";
import type { Scene } from "../src/editor/render";

function scene(w: number, h: number, rgb: (x: number, y: number) => [number, number, number], kind: Scene["backgroundKind"] = "transparent"): Scene {
  const image = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [r, g, b] = rgb(x, y);
    image.set([r, g, b, 255], (y * w + x) * 4);
  }
  return { width: w, height: h, image, background: null, mode: "cutout", backgroundKind: kind, color: [0, 0, 255], tint: [255, 0, 128], opacity: 0.5, checker: 8 };
}

test("snapshot step keeps the picture under the pixel cap", () => {
  assert.equal(snapshotStep(400, 300), 1);
  assert.equal(snapshotStep(4000, 3000), 3); // 12 MP -> 1334 x 1000
  assert.ok(Math.ceil(4001 / snapshotStep(4001, 3001)) * Math.ceil(3001 / snapshotStep(4001, 3001)) <= 2_000_000);
  assert.throws(() => snapshotStep(10, 10, 0), /maxPixels/);
});

test("transparent cutout: alpha is the block mean, colour weighted by alpha", async () => {
  // 4x2 image, 2x2 blocks: left block red with mask 255/0, right block half green/half blue
  const s = scene(4, 2, (x) => (x < 2 ? [200, 0, 0] : x === 2 ? [0, 200, 0] : [0, 0, 200]));
  const mask = new Uint8Array([255, 0, 255, 0, 255, 0, 255, 0]);
  const out = await renderSnapshot(s, mask, { maxPixels: 2 });
  assert.ok(out);
  assert.equal(out.width, 2);
  assert.equal(out.height, 1);
  assert.deepEqual([...out.data], [200, 0, 0, 128, 0, 200, 0, 128]); // only masked pixels give colour
});

test("colour background is composited in, opaque; edge blocks average what they cover", async () => {
  const s = scene(3, 1, () => [255, 255, 255], "color");
  const mask = new Uint8Array([255, 0, 0]);
  const out = await renderSnapshot(s, mask, { maxPixels: 2 }); // k = 2: blocks of 2 and 1 pixel
  assert.ok(out);
  assert.deepEqual([...out.data], [128, 128, 255, 255, 0, 0, 255, 255]);
});

test("a cancelled render returns null", async () => {
  const s = scene(600, 400, () => [1, 2, 3]);
  const out = await renderSnapshot(s, new Uint8Array(600 * 400).fill(255), { maxPixels: 1000, cancelled: () => true, yieldTo: async () => undefined });
  // small images may finish inside one slice; the final check still reports cancellation
  assert.equal(out, null);
});
