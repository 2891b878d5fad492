// Where the subject is and where it goes: its box, the canvas, the scale, the resampling.
// The TypeScript twin of segmentation/product/framing.py: integer arithmetic, or doubles with
// + - * /, min, max and floor only, in the same order, rounded with floor(x + 0.5) (rnd), so
// both sides give the same pixels (tests/data/product-geometry.json holds shared cases).
import { FRINGE_SHARE, lengthPixels, type ProductSpec, SUBJECT_LEVEL } from "./spec";

/** x0, y0, x1, y1 (x1, y1 exclusive). */
export type Box = [number, number, number, number];

export class NoSubjectError extends Error {}

export const rnd = (x: number): number => Math.floor(x + 0.5);

/** Runs of mask pixels: row, start, end (exclusive). */
export interface Runs { rows: number[]; starts: number[]; ends: number[] }

/** Box around the mask's parts at level >= 128 (subjectBox), specks left out. */
export function subjectBox(mask: Uint8Array, width: number, height: number, minPart: number): Box {
  return findSubject(mask, width, height, minPart).box;
}

/** Box around the mask's 8-connected parts at level >= 128, parts smaller than `minPart` of
 * the largest (specks) left out, and the specks' runs. Throws NoSubjectError when nothing
 * reaches the level. */
export function findSubject(mask: Uint8Array, width: number, height: number, minPart: number): { box: Box; specks: Runs } {
  const rows: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const rowFirst = new Int32Array(height + 1);
  for (let y = 0; y < height; y++) {
    rowFirst[y] = rows.length;
    const o = y * width;
    let x = 0;
    while (x < width) {
      if (mask[o + x] < SUBJECT_LEVEL) { x++; continue; }
      const s = x;
      while (x < width && mask[o + x] >= SUBJECT_LEVEL) x++;
      rows.push(y); starts.push(s); ends.push(x);
    }
  }
  rowFirst[height] = rows.length;
  const n = rows.length;
  if (n === 0) throw new NoSubjectError("no subject found: the mask is empty");
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; }
    return i;
  };
  for (let y = 0; y + 1 < height; y++) {
    let b = rowFirst[y + 1];
    const bEnd = rowFirst[y + 2];
    for (let a = rowFirst[y]; a < rowFirst[y + 1]; a++) {
      // runs of row y+1 ending before this run's start - 1 cannot touch it, nor later runs of row y
      while (b < bEnd && ends[b] < starts[a]) b++;
      for (let j = b; j < bEnd && starts[j] <= ends[a]; j++) {
        const ra = find(a), rb = find(j);
        if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
      }
    }
  }
  const area = new Float64Array(n);
  for (let i = 0; i < n; i++) area[find(i)] += ends[i] - starts[i];
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, area[i]);
  const box: Box = [width, height, 0, 0];
  const specks: Runs = { rows: [], starts: [], ends: [] };
  for (let i = 0; i < n; i++) {
    if (area[find(i)] < minPart * largest) {
      specks.rows.push(rows[i]); specks.starts.push(starts[i]); specks.ends.push(ends[i]);
      continue;
    }
    box[0] = Math.min(box[0], starts[i]);
    box[1] = Math.min(box[1], rows[i]);
    box[2] = Math.max(box[2], ends[i]);
    box[3] = Math.max(box[3], rows[i] + 1);
  }
  return { box, specks };
}

/** Set the specks' pixels of `alpha` (width per row) to 0, in place. */
export function dropSpecks(alpha: Uint8Array, width: number, specks: Runs): void {
  for (let k = 0; k < specks.rows.length; k++) alpha.fill(0, specks.rows[k] * width + specks.starts[k], specks.rows[k] * width + specks.ends[k]);
}

/** How far (pixels, Chebyshev) a soft pixel may lie from the subject's core and stay. */
export function fringeReach(width: number, height: number): number {
  return Math.max(2, rnd(FRINGE_SHARE * Math.max(width, height)));
}

/** Clear (alpha 0) every pixel of straight RGBA `rgba` with no pixel at level >= 128 within
 * `reach`, in place: a model's faint background values, far from the subject. */
export function clearFar(rgba: Uint8ClampedArray, width: number, height: number, reach: number): void {
  // Chebyshev dilation of the core: a running count along rows, then along columns
  const rowNear = new Uint8Array(width * height);
  const count = new Int32Array(Math.max(width, height) + 1);
  for (let y = 0; y < height; y++) {
    count[0] = 0;
    for (let x = 0; x < width; x++) count[x + 1] = count[x] + (rgba[(y * width + x) * 4 + 3] >= SUBJECT_LEVEL ? 1 : 0);
    for (let x = 0; x < width; x++) rowNear[y * width + x] = count[Math.min(width, x + reach + 1)] - count[Math.max(0, x - reach)] > 0 ? 1 : 0;
  }
  for (let x = 0; x < width; x++) {
    count[0] = 0;
    for (let y = 0; y < height; y++) count[y + 1] = count[y] + rowNear[y * width + x];
    for (let y = 0; y < height; y++) {
      if (count[Math.min(height, y + reach + 1)] - count[Math.max(0, y - reach)] === 0) rgba[(y * width + x) * 4 + 3] = 0;
    }
  }
}

/** Canvas pixel u covers photo columns [x0 + (u - ox) / scale, x0 + (u + 1 - ox) / scale). */
export interface Frame {
  width: number;
  height: number;
  scale: number;
  ox: number;
  oy: number;
  box: Box;
}

export function subjectSize(f: Frame): [number, number] {
  return [(f.box[2] - f.box[0]) * f.scale, (f.box[3] - f.box[1]) * f.scale];
}

/** Canvas size, scale and placement for a subject `box` (planFrame of framing.py). */
export function planFrame(box: Box, spec: ProductSpec, maxPixels: number): Frame {
  const [x0, y0, x1, y1] = box;
  const bw = x1 - x0, bh = y1 - y0;
  let cw: number, ch: number, scale: number;
  if (spec.canvas !== null) {
    [cw, ch] = spec.canvas;
    if (spec.fill !== null) scale = spec.fill * Math.min(cw / bw, ch / bh);
    else if (spec.margin.unit === "%") {
      const room = 1.0 + (2.0 * spec.margin.value) / 100.0;
      scale = Math.min(cw / (bw * room), ch / (bh * room));
    } else {
      scale = Math.min((cw - 2.0 * spec.margin.value) / bw, (ch - 2.0 * spec.margin.value) / bh);
      if (scale <= 0) throw new Error(`product setting margin: ${spec.margin.value}px leaves no room for the subject on a ${cw}x${ch} canvas`);
    }
  } else {
    scale = 1.0;
    let rw: number, rh: number;
    if (spec.fill !== null) { rw = bw / spec.fill; rh = bh / spec.fill; }
    else { rw = bw + 2.0 * lengthPixels(spec.margin, bw); rh = bh + 2.0 * lengthPixels(spec.margin, bh); }
    let cwf = rw, chf = rh;
    if (spec.aspect !== null) {
      const [a, b] = spec.aspect;
      cwf = Math.max(rw, (rh * a) / b);
      chf = (cwf * b) / a;
    }
    cw = Math.max(1, rnd(cwf));
    ch = Math.max(1, rnd(chf));
  }
  if (cw * ch > maxPixels) throw new Error(`product canvas ${cw}x${ch} = ${cw * ch} pixels is above the pixel limit (${maxPixels})`);
  const sw = bw * scale, sh = bh * scale;
  const ox = rnd((cw - sw) / 2.0);
  const oy = spec.position === "bottom" ? rnd(ch - lengthPixels(spec.floor, ch) - sh) : rnd((ch - sh) / 2.0);
  return { width: cw, height: ch, scale, ox, oy, box };
}

/** One axis of a resampling: output i = sum over k of weight[i*K + k] * src[index[i*K + k]];
 * `inside` has the weights of indices beyond the photo set to 0 (for alpha). */
export interface Taps {
  k: number;
  index: Int32Array;
  weight: Float64Array;
  inside: Float64Array;
}

export function axisTaps(nOut: number, nSrc: number, origin: number, offset: number, scale: number): Taps {
  const k = scale < 1.0 ? Math.ceil(1.0 / scale) + 1 : 2;
  const index = new Int32Array(nOut * k);
  const weight = new Float64Array(nOut * k);
  const inside = new Float64Array(nOut * k);
  for (let u = 0; u < nOut; u++) {
    for (let j = 0; j < k; j++) {
      let idx: number, w: number;
      if (scale < 1.0) {
        const a = origin + (u - offset) / scale;
        const b = origin + (u + 1.0 - offset) / scale;
        idx = Math.floor(a) + j;
        w = Math.max(Math.min(b, idx + 1.0) - Math.max(a, idx), 0.0) * scale;
      } else {
        const c = origin + (u + 0.5 - offset) / scale - 0.5;
        const first = Math.floor(c);
        const f = c - first;
        idx = first + j;
        w = j === 0 ? 1.0 - f : f;
      }
      const at = u * k + j;
      index[at] = Math.min(Math.max(idx, 0), nSrc - 1);
      weight[at] = w;
      inside[at] = idx >= 0 && idx < nSrc ? w : 0.0;
    }
  }
  return { k, index, weight, inside };
}

/** The photo `rgba` (straight RGBA, alpha: the subject's) on the canvas of `frame`, rounded:
 * horizontal pass, then vertical, each a sum over taps in order in doubles; colour clamped at
 * the photo's edges, alpha 0 beyond them. Rows of the horizontal pass are kept in a small ring. */
export function resample(rgba: Uint8Array | Uint8ClampedArray, w: number, h: number, frame: Frame): Uint8ClampedArray {
  const tx = axisTaps(frame.width, w, frame.box[0], frame.ox, frame.scale);
  const ty = axisTaps(frame.height, h, frame.box[1], frame.oy, frame.scale);
  const cw = frame.width;
  const out = new Uint8ClampedArray(cw * frame.height * 4);
  const ringSize = ty.k + 2;
  const ring: Float64Array[] = [];
  const ringRow = new Int32Array(ringSize).fill(-1);
  for (let i = 0; i < ringSize; i++) ring.push(new Float64Array(cw * 4));
  const rowOf = (r: number): Float64Array => {
    const slot = r % ringSize;
    const buf = ring[slot];
    if (ringRow[slot] === r) return buf;
    ringRow[slot] = r;
    const o = r * w * 4;
    for (let u = 0; u < cw; u++) {
      const base = u * tx.k;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let j = 0; j < tx.k; j++) {
        const p = o + tx.index[base + j] * 4;
        const wc = tx.weight[base + j], wa = tx.inside[base + j];
        if (j === 0) { c0 = rgba[p] * wc; c1 = rgba[p + 1] * wc; c2 = rgba[p + 2] * wc; c3 = rgba[p + 3] * wa; }
        else { c0 += rgba[p] * wc; c1 += rgba[p + 1] * wc; c2 += rgba[p + 2] * wc; c3 += rgba[p + 3] * wa; }
      }
      buf[u * 4] = c0; buf[u * 4 + 1] = c1; buf[u * 4 + 2] = c2; buf[u * 4 + 3] = c3;
    }
    return buf;
  };
  const rows: Float64Array[] = new Array(ty.k);
  for (let v = 0; v < frame.height; v++) {
    const base = v * ty.k;
    for (let j = 0; j < ty.k; j++) rows[j] = rowOf(ty.index[base + j]);
    const o = v * cw * 4;
    for (let q = 0; q < cw * 4; q++) {
      const alpha = (q & 3) === 3;
      let acc = 0;
      for (let j = 0; j < ty.k; j++) {
        const wt = alpha ? ty.inside[base + j] : ty.weight[base + j];
        acc = j === 0 ? rows[j][q] * wt : acc + rows[j][q] * wt;
      }
      out[o + q] = Math.min(Math.max(Math.floor(acc + 0.5), 0), 255);
    }
  }
  return out;
}
