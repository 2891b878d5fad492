import { test } from "node:test";
import assert from "node:assert/strict";
import { describeTimings, describeTransfer, transferFraction } from "../src/shared/progress";
import { composite, type Scene } from "../src/editor/render";

test("transfer line says MB of MB, or cached, per asset", () => {
  const text = describeTransfer([
    { label: "model", received: 12_345_678, total: 45_000_000, cached: false },
    { label: "runtime", received: 0, total: 11_000_000, cached: true },
    { label: "image", received: 150_000, total: 300_000, cached: false },
  ]);
  assert.equal(text, "model 12 of 45 MB · runtime cached · image 0.1 of 0.3 MB");
});

test("timing summary names the stages present, in seconds", () => {
  assert.equal(
    describeTimings({ transfer: 1234, session_create: 3400, inference: 5650, total: 10_200 }),
    "transfer 1.2 s · session 3.4 s · inference 5.7 s · total 10.2 s",
  );
  assert.equal(describeTimings({ inference: Number.NaN }), "");
});

test("the original view shows the photo whatever the mask", () => {
  const image = new Uint8ClampedArray([10, 20, 30, 255, 40, 50, 60, 255]);
  const s: Scene = { width: 2, height: 1, image, background: null, mode: "original", backgroundKind: "transparent", color: [0, 0, 0], tint: [255, 0, 128], opacity: 0.5, checker: 8 };
  const out = new Uint8ClampedArray(8);
  composite(out, s, new Uint8Array([0, 255]), { x0: 0, y0: 0, x1: 2, y1: 1 });
  assert.deepEqual([...out], [10, 20, 30, 255, 40, 50, 60, 255]);
});

test("the transfer bar counts the bytes to come only: cached assets and overshoot do not count", () => {
  assert.equal(transferFraction([]), 1, "nothing to transfer: full");
  assert.equal(transferFraction([{ label: "model", received: 0, total: 100, cached: true }]), 1);
  const parts = [
    { label: "model", received: 30, total: 100, cached: false },
    { label: "runtime", received: 0, total: 50, cached: true },
    { label: "image", received: 20, total: 20, cached: false },
  ];
  assert.equal(transferFraction(parts), 50 / 120);
  assert.equal(transferFraction([{ label: "image", received: 25, total: 20, cached: false }]), 1);
});
