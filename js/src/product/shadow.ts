// A soft shadow made from the subject's alpha: shifted, blurred (three box passes per axis,
// exact integer sums, one rounded division per axis), faded. The TypeScript twin of
// segmentation/product/shadow.py.
import { type Frame, rnd, subjectSize } from "./framing";
import type { Shadow } from "./spec";

export const PASSES = 3;
/** Largest blur sigma in pixels: keeps every running sum below 2**53. */
export const MAX_SIGMA_PX = 512.0;

/** Odd box widths whose successive box filters approximate a Gaussian of `sigma`. */
export function boxWidths(sigma: number, passes = PASSES): number[] {
  if (sigma < 0.5) return new Array<number>(passes).fill(1);
  const ideal = Math.sqrt((12.0 * sigma * sigma) / passes + 1.0);
  let low = Math.floor(ideal);
  if (low % 2 === 0) low -= 1;
  const m = rnd((12.0 * sigma * sigma - passes * low * low - 4 * passes * low - 3 * passes) / (-4.0 * low - 4.0));
  return Array.from({ length: passes }, (_, i) => (i < m ? low : low + 2));
}

/** In place along lines of `values` (a line: `len` entries `step` apart, starting at each of
 * `starts`): sums over a centred window of odd `width`, zero beyond the ends. */
function boxLines(values: Float64Array, starts: number[], len: number, step: number, width: number, scratch: Float64Array): void {
  if (width === 1) return;
  const r = (width - 1) / 2;
  for (const s of starts) {
    // scratch[k] = sum of the first k entries
    scratch[0] = 0;
    for (let k = 0; k < len; k++) scratch[k + 1] = scratch[k] + values[s + k * step];
    for (let i = 0; i < len; i++) values[s + i * step] = scratch[Math.min(len, i + r + 1)] - scratch[Math.max(0, i - r)];
  }
}

/** The shadow's alpha on the canvas: `alpha` (w x h) shifted, blurred, times the opacity. */
export function shadowAlpha(alpha: Uint8Array, w: number, h: number, frame: Frame, shadow: Shadow): Uint8Array {
  const height = subjectSize(frame)[1];
  const dx = rnd((shadow.offset_x * height) / 100.0);
  const dy = rnd((shadow.offset_y * height) / 100.0);
  const widths = boxWidths(Math.min((shadow.blur * height) / 100.0, MAX_SIGMA_PX));
  const out = new Uint8Array(w * h);
  // the shifted alpha's box, then the blur's reach around it: nothing beyond changes
  let xa = w, ya = h, xb = -1, yb = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sx = x - dx, sy = y - dy;
    if (sx < 0 || sy < 0 || sx >= w || sy >= h || alpha[sy * w + sx] === 0) continue;
    xa = Math.min(xa, x); xb = Math.max(xb, x); ya = Math.min(ya, y); yb = Math.max(yb, y);
  }
  if (xb < 0) return out;
  const reach = widths.reduce((t, wd) => t + (wd - 1) / 2, 0);
  const x0 = Math.max(0, xa - reach), x1 = Math.min(w, xb + 1 + reach);
  const y0 = Math.max(0, ya - reach), y1 = Math.min(h, yb + 1 + reach);
  const pw = x1 - x0, ph = y1 - y0;
  const v = new Float64Array(pw * ph);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) {
    const sx = x + x0 - dx, sy = y + y0 - dy;
    if (sx >= 0 && sy >= 0 && sx < w && sy < h) v[y * pw + x] = alpha[sy * w + sx];
  }
  const total = widths.reduce((t, wd) => t * wd, 1);
  const scratch = new Float64Array(Math.max(pw, ph) + 1);
  const rowStarts = Array.from({ length: ph }, (_, y) => y * pw);
  for (const wd of widths) boxLines(v, rowStarts, pw, 1, wd, scratch);
  for (let i = 0; i < v.length; i++) v[i] = Math.floor((2 * v[i] + total) / (2 * total));
  const colStarts = Array.from({ length: pw }, (_, x) => x);
  for (const wd of widths) boxLines(v, colStarts, ph, pw, wd, scratch);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) {
    const q = Math.floor((2 * v[y * pw + x] + total) / (2 * total));
    out[(y + y0) * w + x + x0] = Math.floor(shadow.opacity * q + 0.5);
  }
  return out;
}
