import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import cases from "../../tests/data/product-geometry.json";
import { encodePng } from "../src/product/encode";
import { planFrame, subjectBox } from "../src/product/framing";
import { boxWidths } from "../src/product/shadow";
import { parseSpec, ProductSpecError } from "../src/product/spec";

const base = { background: [0, 0, 0, 0], decontaminate: true };

test("frames match the shared cases (tests/data/product-geometry.json)", () => {
  for (const c of cases.frames) {
    const spec = parseSpec({ ...base, ...c.spec });
    const box = c.box as [number, number, number, number];
    if ("error" in c && c.error) {
      assert.throws(() => planFrame(box, spec, cases.max_pixels), new RegExp(c.error), c.note);
      continue;
    }
    const f = planFrame(box, spec, cases.max_pixels);
    assert.deepEqual({ width: f.width, height: f.height, scale: f.scale, ox: f.ox, oy: f.oy }, c.frame, c.note);
  }
});

test("subject boxes match the shared cases", () => {
  for (const c of cases.boxes) {
    const h = c.mask.length, w = c.mask[0].length;
    const mask = new Uint8Array(w * h);
    c.mask.forEach((row, y) => [...row].forEach((ch, x) => { mask[y * w + x] = ch === "#" ? 255 : 0; }));
    if ("error" in c && c.error) assert.throws(() => subjectBox(mask, w, h, c.min_part), /no subject found/, c.note);
    else assert.deepEqual(subjectBox(mask, w, h, c.min_part), c.box, c.note);
  }
});

test("bad settings from the page are one-line errors", () => {
  assert.throws(() => parseSpec({ ...base, margin: "50%" }), ProductSpecError);
  assert.throws(() => parseSpec({ ...base, canvas: [20000, 10] }), /outside 1\.\.16384/);
  assert.throws(() => parseSpec({ ...base, fill: 0 }), /fill/);
  assert.throws(() => parseSpec({ ...base, background: [0, 0, 0] }), /RGBA/);
  assert.throws(() => parseSpec("amazon"), /must be an object/);
  assert.equal(parseSpec({ ...base, margin: "1.5e-3%" }).margin.value, 0.0015);
});

test("box widths are odd and their variance is the Gaussian's", () => {
  for (const sigma of [0.7, 2, 5.3, 17, 60]) {
    const w = boxWidths(sigma);
    assert.ok(w.every((v) => v % 2 === 1));
    const sd = Math.sqrt(w.reduce((t, v) => t + (v * v - 1) / 12, 0));
    assert.ok(Math.abs(sd - sigma) < 0.6, `${sigma}: ${w}`);
  }
});

test("PNG encoder writes the exact pixels, RGB when opaque and RGBA otherwise", async () => {
  const w = 5, h = 3;
  const px = new Uint8ClampedArray(w * h * 4).map((_, i) => (i * 37) % 256);
  for (const opaque of [true, false]) {
    const rgba = px.slice();
    if (opaque) for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
    const png = await encodePng(rgba, w, h);
    assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]);
    const colourType = png[25];
    assert.equal(colourType, opaque ? 2 : 6);
    // IDAT starts after the signature (8) and IHDR (25): length, type, data, crc
    const len = new DataView(png.buffer, png.byteOffset).getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + len));
    const ch = opaque ? 3 : 4;
    for (let y = 0; y < h; y++) {
      assert.equal(raw[y * (w * ch + 1)], 1);
      for (let x = 0; x < w; x++) for (let c = 0; c < ch; c++) {
        let v = 0;
        for (let k = 0; k <= x; k++) v = (v + raw[y * (w * ch + 1) + 1 + k * ch + c]) & 0xff;
        assert.equal(v, rgba[(y * w + x) * 4 + c]);
      }
    }
  }
});

test("any object from the page parses or is a one-line ProductSpecError", () => {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const junk: unknown[] = [null, true, 0, -1, 1.5, 1e300, NaN, "", "5%", "-1%", "50%", "30px", "x", [], [1], [1, 2], [0, 0, 0, 0], { a: 1 }, "center", "bottom", "png", "jpeg"];
  const keys = ["name", "canvas", "aspect", "fill", "margin", "position", "floor", "background", "background_image", "background_fit", "shadow", "decontaminate", "format", "quality", "min_part"];
  let parsed = 0;
  for (let i = 0; i < 2000; i++) {
    const o: Record<string, unknown> = { ...base };
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) o[pick(keys)] = pick(junk);
    try {
      parseSpec(o);
      parsed++;
    } catch (err) {
      assert.ok(err instanceof ProductSpecError, `${String(err)} for ${JSON.stringify(o)}`);
      assert.ok(!err.message.includes("\n"));
    }
  }
  assert.ok(parsed > 0);
});
