// Compositing of the editor's views into RGBA pixels, one dirty rectangle at a time.
// Kept free of DOM so it can be tested in node. The output is always opaque (what the
// screen shows); the downloadable cutout with real alpha is built in export.ts. Stores into
// Uint8ClampedArray round to nearest, so quotients are not floored by hand.
import type { Rect } from "./types";

/** "cutout" (the result, default), "original" (the photo alone), "overlay" (tinted mask), "mask". */
export type ViewMode = "cutout" | "original" | "overlay" | "mask";
export type BackgroundKind = "transparent" | "color" | "image" | "blur";

export interface Scene {
  width: number;
  height: number;
  /** Straight RGBA of the image, width*height*4. */
  image: Uint8ClampedArray;
  /** RGBA of the replacement background (image or blurred original), or null. */
  background: Uint8ClampedArray | null;
  mode: ViewMode;
  backgroundKind: BackgroundKind;
  color: [number, number, number];
  /** Overlay tint and its opacity 0..1. */
  tint: [number, number, number];
  opacity: number;
  /** Checkerboard square side in image pixels. */
  checker: number;
}

export function parseHex(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`colour ${JSON.stringify(hex)} is not #rrggbb`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export const checkerSize = (w: number, h: number): number => Math.max(8, Math.round(Math.max(w, h) / 96));

/** Write the composite of `mask` over the scene into `out` (RGBA, scene-sized) inside `r`. */
export function composite(out: Uint8ClampedArray, s: Scene, mask: Uint8Array, r: Rect): void {
  const { width: w, image: img, mode } = s;
  const bg = s.background;
  const [cr, cg, cb] = s.color;
  const [tr, tg, tb] = s.tint;
  const alpha = Math.round(Math.max(0, Math.min(1, s.opacity)) * 255);
  const useBg = mode === "cutout" && (s.backgroundKind === "image" || s.backgroundKind === "blur") && bg !== null;
  const useColor = mode === "cutout" && s.backgroundKind === "color";
  for (let y = r.y0; y < r.y1; y++) {
    const cy = Math.floor(y / s.checker);
    for (let x = r.x0; x < r.x1; x++) {
      const i = y * w + x, j = i * 4;
      const m = mask[i];
      if (mode === "mask") {
        out[j] = out[j + 1] = out[j + 2] = m;
      } else if (mode === "original") {
        out[j] = img[j]; out[j + 1] = img[j + 1]; out[j + 2] = img[j + 2];
      } else if (mode === "overlay") {
        const k = alpha * m; // 0..65025
        out[j] = (img[j] * (65025 - k) + tr * k ) / 65025;
        out[j + 1] = (img[j + 1] * (65025 - k) + tg * k ) / 65025;
        out[j + 2] = (img[j + 2] * (65025 - k) + tb * k ) / 65025;
      } else {
        let br: number, bgc: number, bb: number;
        if (useBg) { br = (bg as Uint8ClampedArray)[j]; bgc = (bg as Uint8ClampedArray)[j + 1]; bb = (bg as Uint8ClampedArray)[j + 2]; }
        else if (useColor) { br = cr; bgc = cg; bb = cb; }
        else { br = bgc = bb = ((Math.floor(x / s.checker) + cy) & 1) ? 204 : 255; }
        const n = 255 - m;
        out[j] = (img[j] * m + br * n) / 255;
        out[j + 1] = (img[j + 1] * m + bgc * n) / 255;
        out[j + 2] = (img[j + 2] * m + bb * n) / 255;
      }
      out[j + 3] = 255;
    }
  }
}
