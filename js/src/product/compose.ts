// The product-photo step in the browser: the TypeScript twin of segmentation/product/compose.py.
// Photo + mask in, the framed photo's straight-RGBA pixels out: subject box, frame, resampling,
// foreground colour estimation, shadow, background, layers put over each other with integer
// arithmetic rounded half up.
import { estimateForeground } from "./decontaminate";
import { type Box, clearFar, dropSpecks, findSubject, type Frame, fringeReach, planFrame, resample, rnd } from "./framing";
import { shadowAlpha } from "./shadow";
import type { ProductSpec } from "./spec";

export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

export interface ProductOutput {
  pixels: Uint8ClampedArray;
  frame: Frame;
  /** Share of the canvas the subject's box fills on its limiting side. */
  fill: number;
}

/** The subject's alpha: the mask, times the photo's own alpha where it has one. */
export function subjectAlpha(rgba: Uint8Array | Uint8ClampedArray, mask: Uint8Array): Uint8Array {
  const n = mask.length;
  let opaque = true;
  for (let i = 0; i < n && opaque; i++) opaque = rgba[i * 4 + 3] === 255;
  if (opaque) return mask;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor((2 * mask[i] * rgba[i * 4 + 3] + 255) / 510);
  return out;
}

/** `src` (colour: 3 or 4 bytes a pixel, alpha `srcA`) over `dst` (RGBA), in place in `dst`. */
export function over(dst: Uint8ClampedArray, src: Uint8Array | Uint8ClampedArray | null, srcStride: number, srcA: Uint8Array | Uint8ClampedArray, alphaStride: number, alphaOffset: number): void {
  const n = dst.length / 4;
  for (let i = 0; i < n; i++) {
    const sa = srcA[i * alphaStride + alphaOffset];
    const da = dst[i * 4 + 3];
    const total = sa * 255 + da * (255 - sa);
    for (let c = 0; c < 3; c++) {
      const cs = src === null ? 0 : src[i * srcStride + c];
      const num = cs * sa * 255 + dst[i * 4 + c] * da * (255 - sa);
      dst[i * 4 + c] = total > 0 ? Math.floor((2 * num + total) / (2 * total)) : 0;
    }
    dst[i * 4 + 3] = Math.floor((2 * total + 255) / 510);
  }
}

/** Where a background image of `size` lands on the canvas. */
export function backgroundFrame(width: number, height: number, bw: number, bh: number, fit: "cover" | "contain"): Frame {
  const scale = fit === "cover" ? Math.max(width / bw, height / bh) : Math.min(width / bw, height / bh);
  const box: Box = [0, 0, bw, bh];
  return { width, height, scale, ox: rnd((width - bw * scale) / 2.0), oy: rnd((height - bh * scale) / 2.0), box };
}

/** Frame the subject of `photo` (its alpha: `mask`) as `spec` says. Throws NoSubjectError on an
 * empty mask, and an Error naming the problem when the canvas would exceed `maxPixels`. */
export function productPixels(photo: Pixels, mask: Uint8Array, spec: ProductSpec, background: Pixels | null = null, maxPixels = 200_000_000): ProductOutput {
  const { width: w, height: h } = photo;
  if (photo.data.length !== w * h * 4) throw new Error(`photo has ${photo.data.length} bytes, expected ${w}x${h}x4`);
  if (mask.length !== w * h) throw new Error(`mask has ${mask.length} bytes, expected ${w}x${h}`);
  const alpha = subjectAlpha(photo.data, mask);
  const { box, specks } = findSubject(alpha, w, h, spec.min_part);
  const frame = planFrame(box, spec, maxPixels);
  const kept = alpha === mask ? new Uint8Array(alpha) : alpha;
  dropSpecks(kept, w, specks);
  const source = new Uint8ClampedArray(photo.data);
  for (let i = 0; i < w * h; i++) source[i * 4 + 3] = kept[i];
  const canvas = resample(source, w, h, frame);
  clearFar(canvas, frame.width, frame.height, fringeReach(frame.width, frame.height));
  const subject = spec.decontaminate ? estimateForeground(canvas, frame.width, frame.height) : null;

  const n = frame.width * frame.height;
  const layer = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) layer.set(spec.background, i * 4);
  if (background !== null) {
    const placed = resample(background.data, background.width, background.height, backgroundFrame(frame.width, frame.height, background.width, background.height, spec.background_fit));
    over(layer, placed, 4, placed, 4, 3);
  }
  if (spec.shadow !== null) {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = canvas[i * 4 + 3];
    over(layer, null, 3, shadowAlpha(a, frame.width, frame.height, frame, spec.shadow), 1, 0);
  }
  if (subject !== null) over(layer, subject, 3, canvas, 4, 3);
  else over(layer, canvas, 4, canvas, 4, 3);
  const [x0, y0, x1, y1] = frame.box;
  const fill = Math.max(((x1 - x0) * frame.scale) / frame.width, ((y1 - y0) * frame.scale) / frame.height);
  return { pixels: layer, frame, fill };
}
