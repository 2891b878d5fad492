// Edge colour decontamination: the subject's own colour where the mask is soft. The TypeScript
// twin of segmentation/product/decontaminate.py: local means by the two-pass blur-fusion of
// Forte & Pitie 2021 (radius 90, then 6), then the guarded estimate (consistent alpha, unmixing
// blended with blur-fusion, a guard that keeps a pixel's colour where the mask's alpha does not
// explain it; the Python module's docstring says why). Window sums are exact integers held in
// doubles (summed-area tables of 8-bit products stay far below 2**53), the rest is the same
// double arithmetic in the same order; only pixels with 0 < alpha < 255 change.

export const WIDE = 90;
export const NARROW = 6;
/** The guard: full correction up to this residual (a share of |mean_F - mean_B|)... */
export const TRUST_FULL = 0.1;
/** ...none from this one on. */
export const TRUST_NONE = 0.3;

/** A summed-area table of `value(x, y)` over the part [x0, x1) x [y0, y1): (pw + 1) * (ph + 1). */
class Table {
  readonly t: Float64Array;
  readonly pw: number;
  constructor(
    readonly x0: number,
    readonly y0: number,
    x1: number,
    y1: number,
    value: (i: number) => number,
    canvasWidth: number,
  ) {
    const pw = x1 - x0, ph = y1 - y0;
    this.pw = pw;
    const t = new Float64Array((pw + 1) * (ph + 1));
    for (let y = 0; y < ph; y++) {
      let row = 0;
      const src = (y + y0) * canvasWidth + x0;
      const up = y * (pw + 1), at = (y + 1) * (pw + 1);
      for (let x = 0; x < pw; x++) {
        row += value(src + x);
        t[at + x + 1] = t[up + x + 1] + row;
      }
    }
    this.t = t;
  }

  /** Sum over the canvas rectangle [xa, xb) x [ya, yb) (inside the part). */
  sum(xa: number, ya: number, xb: number, yb: number): number {
    const s = this.pw + 1, t = this.t;
    xa -= this.x0; xb -= this.x0; ya -= this.y0; yb -= this.y0;
    return t[yb * s + xb] - t[ya * s + xb] - t[yb * s + xa] + t[ya * s + xa];
  }
}

interface Part { x0: number; y0: number; x1: number; y1: number }

function around(points: Int32Array, r: number, w: number, h: number): Part {
  let xa = w, ya = h, xb = 0, yb = 0;
  for (const p of points) {
    const x = p % w, y = (p - x) / w;
    xa = Math.min(xa, x); xb = Math.max(xb, x); ya = Math.min(ya, y); yb = Math.max(yb, y);
  }
  return { x0: Math.max(0, xa - r), y0: Math.max(0, ya - r), x1: Math.min(w, xb + r + 1), y1: Math.min(h, yb + r + 1) };
}

const ratio = (n: number, d: number): number => (d > 0 ? n / d : 0.0);
const clip = (v: number): number => Math.min(Math.max(v, 0.0), 255.0);
const fuse = (i: number, a: number, mf: number, mb: number): number => clip(mf + a * (i - a * mf - (1.0 - a) * mb));

/** The subject's colour: `rgba`'s where alpha is 0 or 255, estimated between; `rgba` holds the
 * photo's colours and the subject's alpha (straight). Returns RGB, 3 bytes a pixel. */
export function estimateForeground(rgba: Uint8ClampedArray | Uint8Array, w: number, h: number): Uint8ClampedArray {
  const n = w * h;
  const out = new Uint8ClampedArray(n * 3);
  let edgeCount = 0;
  for (let i = 0; i < n; i++) {
    out[i * 3] = rgba[i * 4]; out[i * 3 + 1] = rgba[i * 4 + 1]; out[i * 3 + 2] = rgba[i * 4 + 2];
    const a = rgba[i * 4 + 3];
    if (a > 0 && a < 255) edgeCount++;
  }
  if (edgeCount === 0) return out;
  const edge = new Int32Array(edgeCount);
  for (let i = 0, j = 0; i < n; i++) { const a = rgba[i * 4 + 3]; if (a > 0 && a < 255) edge[j++] = i; }
  const alpha = (i: number): number => rgba[i * 4 + 3];

  // the points where pass 2 reads pass 1's background: not opaque, within NARROW of the edge
  const pe = around(edge, 2 * NARROW, w, h);
  const isEdge = new Uint8Array(n);
  for (const p of edge) isEdge[p] = 1;
  const edgeTable = new Table(pe.x0, pe.y0, pe.x1, pe.y1, (i) => isEdge[i], w);
  const pq = around(edge, NARROW, w, h);
  const near: number[] = [];
  for (let y = pq.y0; y < pq.y1; y++) {
    for (let x = pq.x0; x < pq.x1; x++) {
      const i = y * w + x;
      if (alpha(i) === 255) continue;
      const s = edgeTable.sum(Math.max(x - NARROW, 0), Math.max(y - NARROW, 0), Math.min(x + NARROW + 1, w), Math.min(y + NARROW + 1, h));
      if (s > 0) near.push(i);
    }
  }
  const points = Int32Array.from(near);
  const m = points.length;

  // pass 1: F = B = the photo, wide windows, at every point
  const p1 = around(points, WIDE, w, h);
  const tA = new Table(p1.x0, p1.y0, p1.x1, p1.y1, alpha, w);
  const meanF = new Float64Array(m * 3), meanB = new Float64Array(m * 3);
  const win = (p: number, r: number): [number, number, number, number] => {
    const x = p % w, y = (p - x) / w;
    return [Math.max(x - r, 0), Math.max(y - r, 0), Math.min(x + r + 1, w), Math.min(y + r + 1, h)];
  };
  const sA = new Float64Array(m), count = new Float64Array(m);
  for (let q = 0; q < m; q++) {
    const [xa, ya, xb, yb] = win(points[q], WIDE);
    sA[q] = tA.sum(xa, ya, xb, yb);
    count[q] = (yb - ya) * (xb - xa);
  }
  for (let c = 0; c < 3; c++) {
    const tIA = new Table(p1.x0, p1.y0, p1.x1, p1.y1, (i) => rgba[i * 4 + c] * rgba[i * 4 + 3], w);
    const tI = new Table(p1.x0, p1.y0, p1.x1, p1.y1, (i) => rgba[i * 4 + c], w);
    for (let q = 0; q < m; q++) {
      const [xa, ya, xb, yb] = win(points[q], WIDE);
      const sIA = tIA.sum(xa, ya, xb, yb), sI = tI.sum(xa, ya, xb, yb);
      meanF[q * 3 + c] = ratio(sIA, sA[q]);
      meanB[q * 3 + c] = ratio(255 * sI - sIA, 255 * count[q] - sA[q]);
    }
  }
  // pass 1's foreground on the edge, background at every point (both rounded to 8 bits)
  const fore1 = new Uint8Array(n * 3);
  const back1 = new Uint8Array(n * 3);
  for (let q = 0; q < m; q++) {
    const p = points[q];
    const a = alpha(p) / 255.0;
    for (let c = 0; c < 3; c++) {
      back1[p * 3 + c] = Math.floor(clip(meanB[q * 3 + c]) + 0.5);
      if (isEdge[p]) fore1[p * 3 + c] = Math.floor(fuse(rgba[p * 4 + c], a, meanF[q * 3 + c], meanB[q * 3 + c]) + 0.5);
    }
  }

  // pass 2: the first pass's F and B, narrow windows, on the edge
  const p2 = around(edge, NARROW, w, h);
  const tA2 = new Table(p2.x0, p2.y0, p2.x1, p2.y1, alpha, w);
  const isPoint = new Uint8Array(n);
  for (const p of points) isPoint[p] = 1;
  const fore = new Float64Array(edgeCount * 3), back = new Float64Array(edgeCount * 3);
  for (let c = 0; c < 3; c++) {
    const tF = new Table(p2.x0, p2.y0, p2.x1, p2.y1, (i) => (isEdge[i] ? fore1[i * 3 + c] : rgba[i * 4 + c]) * rgba[i * 4 + 3], w);
    const tB = new Table(p2.x0, p2.y0, p2.x1, p2.y1, (i) => (isPoint[i] ? back1[i * 3 + c] * (255 - rgba[i * 4 + 3]) : 0), w);
    for (let e = 0; e < edgeCount; e++) {
      const [xa, ya, xb, yb] = win(edge[e], NARROW);
      const s2 = tA2.sum(xa, ya, xb, yb);
      fore[e * 3 + c] = ratio(tF.sum(xa, ya, xb, yb), s2);
      back[e * 3 + c] = ratio(tB.sum(xa, ya, xb, yb), 255 * (yb - ya) * (xb - xa) - s2);
    }
  }
  const pixel = new Float64Array(3), fused = new Float64Array(3);
  for (let e = 0; e < edgeCount; e++) {
    const p = edge[e], o = e * 3;
    pixel[0] = rgba[p * 4]; pixel[1] = rgba[p * 4 + 1]; pixel[2] = rgba[p * 4 + 2];
    refine(pixel, alpha(p) / 255.0, fore.subarray(o, o + 3), back.subarray(o, o + 3), fused);
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.floor(fused[c] + 0.5);
  }
  return out;
}

/** The guarded estimate of one pixel (Python: `refine` with every step), written into `f`:
 * `i` its colour, `a` its alpha (0..1), `mf`/`mb` the narrow pass's subject and background
 * means. The same operations in the same order as numpy's. */
export function refine(i: Float64Array, a: number, mf: Float64Array, mb: Float64Array, f: Float64Array): void {
  const d0 = mf[0] - mb[0], d1 = mf[1] - mb[1], d2 = mf[2] - mb[2];
  const dd = d0 * d0 + d1 * d1 + d2 * d2;
  // the colour's own alpha may raise the alpha the estimate uses
  const proj = (i[0] - mb[0]) * d0 + (i[1] - mb[1]) * d1 + (i[2] - mb[2]) * d2;
  const own = dd > 0 ? Math.min(Math.max(proj / dd, 0.0), 1.0) : 0.0;
  const au = Math.max(a, own);
  // the guard: how far the mask's alpha explains the pixel
  const r0 = i[0] - (a * mf[0] + (1.0 - a) * mb[0]);
  const r1 = i[1] - (a * mf[1] + (1.0 - a) * mb[1]);
  const r2 = i[2] - (a * mf[2] + (1.0 - a) * mb[2]);
  const rho = Math.sqrt((r0 * r0 + r1 * r1 + r2 * r2) / (dd > 0 ? dd : 1.0));
  const trust = dd > 0 ? Math.min(Math.max((TRUST_NONE - rho) / (TRUST_NONE - TRUST_FULL), 0.0), 1.0) : 0.0;
  for (let c = 0; c < 3; c++) {
    const blurred = fuse(i[c], au, mf[c], mb[c]);
    const taken = clip(i[c] + ((1.0 - au) / au) * (i[c] - mb[c]));
    const est = au * taken + (1.0 - au) * blurred;
    f[c] = i[c] + trust * (est - i[c]);
  }
}
