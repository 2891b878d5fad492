// Mask edit ops, the TypeScript twin of segmentation/mask_edits.py. Every op mutates the mask in
// place and returns the rectangle it may have changed (null: nothing changed), so the view
// repaints only that. Arithmetic is chosen to be exact in both languages: integers, or doubles
// with + - * / sqrt only (correctly rounded in V8 and numpy), in the same order, rounding with
// floor(x + 0.5). tests/segmentation/test_mask_edits.py checks TS and numpy agree bit for bit.
import type { EditOp, LoadOp, MaskBuffer, Rect } from "./types";

export const FG = 128;
export const HALO = 8;

const clampRect = (m: MaskBuffer, x0: number, y0: number, x1: number, y1: number): Rect | null => {
  const r = { x0: Math.max(0, x0), y0: Math.max(0, y0), x1: Math.min(m.width, x1), y1: Math.min(m.height, y1) };
  return r.x0 < r.x1 && r.y0 < r.y1 ? r : null;
};

export const unionRect = (a: Rect | null, b: Rect | null): Rect | null => {
  if (!a) return b;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
};

export function threshold(m: MaskBuffer, t: number): Rect {
  const d = m.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] >= t ? 255 : 0;
  return { x0: 0, y0: 0, x1: m.width, y1: m.height };
}

/** Paint or erase one capsule-shaped segment from (ax, ay) to (bx, by). */
export function brushSegment(
  m: MaskBuffer, ax: number, ay: number, bx: number, by: number,
  radius: number, hardness: number, mode: "add" | "erase",
): Rect | null {
  const rect = clampRect(
    m,
    Math.floor(Math.min(ax, bx) - radius), Math.floor(Math.min(ay, by) - radius),
    Math.ceil(Math.max(ax, bx) + radius) + 1, Math.ceil(Math.max(ay, by) + radius) + 1,
  );
  if (!rect) return null;
  const inner = radius * hardness;
  const ex = bx - ax, ey = by - ay;
  const l2 = ex * ex + ey * ey;
  const d = m.data, w = m.width;
  const add = mode === "add";
  for (let y = rect.y0; y < rect.y1; y++) {
    const dy = (y + 0.5) - ay;
    const row = y * w;
    for (let x = rect.x0; x < rect.x1; x++) {
      const dx = (x + 0.5) - ax;
      let t = l2 > 0 ? (dx * ex + dy * ey) / l2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const qx = dx - t * ex, qy = dy - t * ey;
      const dist = Math.sqrt(qx * qx + qy * qy);
      let a: number;
      if (dist <= inner) a = 1;
      else if (dist >= radius || radius <= inner) a = 0;
      else a = (radius - dist) / (radius - inner);
      const v = Math.floor(a * 255 + 0.5);
      if (v === 0) continue;
      const i = row + x;
      if (add) { if (d[i] < v) d[i] = v; } else if (d[i] > 255 - v) d[i] = 255 - v;
    }
  }
  return rect;
}

/** A whole stroke: its segments one after the other (add = max, erase = min, so order-free). */
export function brush(m: MaskBuffer, pts: readonly number[], radius: number, hardness: number, mode: "add" | "erase"): Rect | null {
  if (pts.length === 2) return brushSegment(m, pts[0], pts[1], pts[0], pts[1], radius, hardness, mode);
  let dirty: Rect | null = null;
  for (let i = 0; i + 3 < pts.length; i += 2) {
    dirty = unionRect(dirty, brushSegment(m, pts[i], pts[i + 1], pts[i + 2], pts[i + 3], radius, hardness, mode));
  }
  return dirty;
}

/** 4-connected flood from the seeds over pixels where `inside` is 1; marks them 1 in the result. */
function flood(inside: Uint8Array, w: number, h: number, seeds: number[]): Uint8Array {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  let top = 0;
  for (const s of seeds) if (inside[s] && !seen[s]) { seen[s] = 1; stack[top++] = s; }
  while (top > 0) {
    const i = stack[--top];
    const x = i % w;
    if (x > 0 && inside[i - 1] && !seen[i - 1]) { seen[i - 1] = 1; stack[top++] = i - 1; }
    if (x < w - 1 && inside[i + 1] && !seen[i + 1]) { seen[i + 1] = 1; stack[top++] = i + 1; }
    if (i >= w && inside[i - w] && !seen[i - w]) { seen[i - w] = 1; stack[top++] = i - w; }
    if (i + w < w * h && inside[i + w] && !seen[i + w]) { seen[i + w] = 1; stack[top++] = i + w; }
  }
  return seen;
}

const binarise = (m: MaskBuffer, fg: boolean): Uint8Array => {
  const out = new Uint8Array(m.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (m.data[i] >= FG) === fg ? 1 : 0;
  return out;
};

/** Keep only (keep=true) or remove the object under (x, y) with its soft edge; see mask_edits.py. */
export function selectRegion(m: MaskBuffer, x: number, y: number, keep: boolean): Rect | null {
  const { width: w, height: h, data } = m;
  if (data[y * w + x] < FG) return null;
  const fg = binarise(m, true);
  const obj = flood(fg, w, h, [y * w + x]);
  let bx0 = w, by0 = h, bx1 = 0, by1 = 0;
  for (let yy = 0; yy < h; yy++) {
    const row = yy * w;
    for (let xx = 0; xx < w; xx++) if (obj[row + xx]) {
      if (xx < bx0) bx0 = xx; if (xx >= bx1) bx1 = xx + 1;
      if (yy < by0) by0 = yy; if (yy >= by1) by1 = yy + 1;
    }
  }
  // Chebyshev dilation by HALO, separable (sliding window counts), inside the grown box.
  const r = clampRect(m, bx0 - HALO, by0 - HALO, bx1 + HALO, by1 + HALO) as Rect;
  const rowsMax = new Uint8Array(w * h);
  for (let yy = r.y0; yy < r.y1; yy++) {
    const row = yy * w;
    let n = 0;
    for (let k = r.x0; k < Math.min(w, r.x0 + HALO); k++) n += obj[row + k];
    for (let xx = r.x0; xx < r.x1; xx++) {
      if (xx + HALO < w) n += obj[row + xx + HALO];
      if (xx - HALO - 1 >= r.x0) n -= obj[row + xx - HALO - 1];
      rowsMax[row + xx] = n > 0 ? 1 : 0;
    }
  }
  const own = new Uint8Array(w * h);
  const counts = new Int32Array(w);
  for (let k = r.y0; k < Math.min(h, r.y0 + HALO); k++) for (let xx = r.x0; xx < r.x1; xx++) counts[xx] += rowsMax[k * w + xx];
  for (let yy = r.y0; yy < r.y1; yy++) {
    const addRow = yy + HALO < h ? (yy + HALO) * w : -1;
    const subRow = yy - HALO - 1 >= r.y0 ? (yy - HALO - 1) * w : -1;
    for (let xx = r.x0; xx < r.x1; xx++) {
      if (addRow >= 0) counts[xx] += rowsMax[addRow + xx];
      if (subRow >= 0) counts[xx] -= rowsMax[subRow + xx];
      const i = yy * w + xx;
      own[i] = counts[xx] > 0 && !(fg[i] && !obj[i]) ? 1 : 0;
    }
  }
  if (keep) {
    for (let i = 0; i < data.length; i++) if (!own[i]) data[i] = 0;
    return { x0: 0, y0: 0, x1: w, y1: h };
  }
  for (let i = 0; i < data.length; i++) if (own[i]) data[i] = 0;
  return r;
}

/** Set to 255 every background pixel not 4-connected to the border. */
export function fillHoles(m: MaskBuffer): Rect {
  const { width: w, height: h, data } = m;
  const bg = binarise(m, false);
  const seeds: number[] = [];
  for (let x = 0; x < w; x++) seeds.push(x, (h - 1) * w + x);
  for (let y = 0; y < h; y++) seeds.push(y * w, y * w + w - 1);
  const outside = flood(bg, w, h, seeds);
  for (let i = 0; i < data.length; i++) if (bg[i] && !outside[i]) data[i] = 255;
  return { x0: 0, y0: 0, x1: w, y1: h };
}

/** Horizontal box blur of radius r, clamped edges, round-half-up integer division. */
function boxRows(src: Int32Array, dst: Int32Array, w: number, h: number, r: number): void {
  const div = 2 * r + 1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += src[row + (k < 0 ? 0 : k >= w ? w - 1 : k)];
    for (let x = 0; x < w; x++) {
      dst[row + x] = ((sum + r) / div) | 0;
      const add = x + r + 1, sub = x - r;
      sum += src[row + (add >= w ? w - 1 : add)] - src[row + (sub < 0 ? 0 : sub)];
    }
  }
}

/** Vertical box blur, row by row with running column sums (cache friendly). */
function boxCols(src: Int32Array, dst: Int32Array, w: number, h: number, r: number): void {
  const div = 2 * r + 1;
  const sums = new Int32Array(w);
  for (let k = -r; k <= r; k++) {
    const row = (k < 0 ? 0 : k >= h ? h - 1 : k) * w;
    for (let x = 0; x < w; x++) sums[x] += src[row + x];
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const addRow = Math.min(y + r + 1, h - 1) * w, subRow = Math.max(y - r, 0) * w;
    for (let x = 0; x < w; x++) {
      dst[row + x] = ((sums[x] + r) / div) | 0;
      sums[x] += src[addRow + x] - src[subRow + x];
    }
  }
}

/** Three rounds of horizontal+vertical box blur with integer rounding (see mask_edits.feather). */
export function feather(m: MaskBuffer, radius: number): Rect {
  const { width: w, height: h } = m;
  const a = Int32Array.from(m.data);
  const b = new Int32Array(a.length);
  for (let round = 0; round < 3; round++) {
    boxRows(a, b, w, h, radius);
    boxCols(b, a, w, h, radius);
  }
  m.data.set(a);
  return { x0: 0, y0: 0, x1: w, y1: h };
}

/** Decode the zlib+base64 payload of a load op. */
export async function decodeLoad(op: LoadOp): Promise<Uint8Array> {
  const bin = atob(op.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  const out = new Uint8Array(await new Response(stream).arrayBuffer());
  if (out.length !== op.w * op.h) throw new Error(`load op: ${out.length} bytes do not make a ${op.w}x${op.h} mask`);
  return out;
}

/** Loaded masks, decoded ahead of time (replay itself stays synchronous). */
export type LoadResolver = (op: LoadOp) => Uint8Array;

/** Apply one op in place; returns the dirty rectangle or null. */
export function applyOp(m: MaskBuffer, op: EditOp, model: Uint8Array, load: LoadResolver): Rect | null {
  switch (op.op) {
    case "threshold": return threshold(m, op.t);
    case "brush": return brush(m, op.points, op.radius, op.hardness, op.mode);
    case "keep": case "remove": return selectRegion(m, op.x, op.y, op.op === "keep");
    case "fill": return fillHoles(m);
    case "feather": return feather(m, op.radius);
    case "invert": for (let i = 0; i < m.data.length; i++) m.data[i] = 255 - m.data[i]; break;
    case "reset": m.data.set(model); break;
    case "load": {
      if (op.w !== m.width || op.h !== m.height) throw new Error(`load op: mask is ${op.w}x${op.h}, image is ${m.width}x${m.height}`);
      m.data.set(load(op)); break;
    }
  }
  return { x0: 0, y0: 0, x1: m.width, y1: m.height };
}

/** Decode every load op of a log (cached by payload). */
export async function decodeLoads(ops: readonly EditOp[], cache: Map<string, Uint8Array>): Promise<LoadResolver> {
  for (const op of ops) if (op.op === "load" && !cache.has(op.data)) cache.set(op.data, await decodeLoad(op));
  return (op) => cache.get(op.data) as Uint8Array;
}
