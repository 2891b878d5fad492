// The engine's pure helpers: the pixel checksum both runtimes compute (engine/checksum.ts, twin
// of segmentation.pixels.pixels_checksum) and the display size of a bitmap (engine/decode.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { pixelsChecksum } from "../src/engine/checksum";
import { fitSize } from "../src/engine/decode";

test("the checksum is sum of p[i] * ((i mod 65521) + 1) mod 2**32, as the kernel computes it", () => {
  assert.equal(pixelsChecksum(new Uint8Array([1, 2, 3, 4])), 1 * 1 + 2 * 2 + 3 * 3 + 4 * 4);
  assert.equal(pixelsChecksum(new Uint8Array(0)), 0);
  // the weight wraps after 65521 bytes: byte 65521 weighs 1 again
  const wrap = new Uint8Array(65522);
  wrap[65520] = 1;
  wrap[65521] = 1;
  assert.equal(pixelsChecksum(wrap), 65521 + 1);
  // 280,000 bytes (i * 7 mod 256): the value segmentation.pixels.pixels_checksum gives
  const long = Uint8Array.from({ length: 280_000 }, (_, i) => (i * 7) % 256);
  assert.equal(pixelsChecksum(long), 2763772854);
  assert.equal(pixelsChecksum(new Uint8ClampedArray(long)), 2763772854);
});

test("fitSize keeps the aspect ratio within maxSide, never enlarges, never below one pixel", () => {
  assert.deepEqual(fitSize(4000, 3000, 1000), [1000, 750]);
  assert.deepEqual(fitSize(3000, 4000, 1000), [750, 1000]);
  assert.deepEqual(fitSize(640, 480, 1000), [640, 480]);
  assert.deepEqual(fitSize(10000, 3, 100), [100, 1]);
});
