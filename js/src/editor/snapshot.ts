// A compact picture of the edited cutout for the notebook's saved widget state. The image and
// the model's mask reach a view by custom messages, which a saved notebook does not keep; this
// snapshot (downscaled to at most SNAPSHOT_MAX_PIXELS, WebP where the browser encodes it, else
// PNG) is what a reopened notebook can show without a kernel. Rendering is a k x k box average
// of the full-resolution composite, sliced into short tasks so a 12-MP photo never blocks the
// page for more than a few milliseconds at a time.
import type { Scene } from "./render";

export const SNAPSHOT_MAX_PIXELS = 2_000_000;
/** Far under the 10 MiB browser->kernel websocket frame limit, and small in the .ipynb. */
export const SNAPSHOT_MAX_BYTES = 3 * 1024 * 1024;
const SLICE_MS = 8;

export interface SnapshotInfo {
  /** What the snapshot shows: edit revision, cursor and background (see attach.ts). */
  key: string;
  width: number;
  height: number;
  source_width: number;
  source_height: number;
  mime: string;
}

/** Integer downscale factor that brings width x height under maxPixels. */
export function snapshotStep(width: number, height: number, maxPixels = SNAPSHOT_MAX_PIXELS): number {
  if (!(maxPixels >= 1)) throw new Error(`maxPixels must be >= 1, got ${maxPixels}`);
  let k = Math.max(1, Math.ceil(Math.sqrt((width * height) / maxPixels)));
  while (Math.ceil(width / k) * Math.ceil(height / k) > maxPixels) k++;
  return k;
}

export interface RenderOptions {
  maxPixels?: number;
  /** Checked between slices: true stops the work (the result would be stale). */
  cancelled?: () => boolean;
  /** Give the page a turn between slices (default: a macrotask). */
  yieldTo?: () => Promise<void>;
  /** Encode off the page (the editor worker); null: encode here. Takes the pixels' buffer. */
  encode?: (px: Uint8ClampedArray, w: number, h: number, mime: string, quality: number) => Promise<Blob | null>;
}

const macrotask = (): Promise<void> => new Promise((res) => setTimeout(res, 0));

/**
 * The cutout of `mask` over the scene's background, downscaled by box averaging.
 * A transparent background keeps the mask as alpha (colour averaged with alpha weights);
 * a colour, picked image or blur is composited in, opaque. Returns null when cancelled.
 */
export async function renderSnapshot(scene: Scene, mask: Uint8Array, opts: RenderOptions = {}): Promise<{ data: Uint8ClampedArray; width: number; height: number } | null> {
  const { width: w, height: h, image: img } = scene;
  if (mask.length !== w * h) throw new Error(`mask has ${mask.length} bytes, expected ${w}x${h}`);
  const k = snapshotStep(w, h, opts.maxPixels);
  const tw = Math.ceil(w / k), th = Math.ceil(h / k);
  const out = new Uint8ClampedArray(tw * th * 4);
  const bg = scene.background;
  const useBg = (scene.backgroundKind === "image" || scene.backgroundKind === "blur") && bg !== null;
  const opaque = useBg || scene.backgroundKind === "color";
  const [cr, cg, cb] = scene.color;
  const acc = new Float64Array(tw * 4);
  const count = new Float64Array(tw);
  let slice = performance.now();
  for (let oy = 0; oy < th; oy++) {
    acc.fill(0);
    count.fill(0);
    const yEnd = Math.min(h, (oy + 1) * k);
    for (let y = oy * k; y < yEnd; y++) {
      for (let ox = 0, x = 0; ox < tw; ox++) {
        const xEnd = Math.min(w, x + k);
        let r = 0, g = 0, b = 0, a = 0;
        for (; x < xEnd; x++) {
          const i = y * w + x, j = i * 4, m = mask[i];
          if (opaque) {
            const n = 255 - m;
            const br = useBg ? (bg as Uint8ClampedArray)[j] : cr;
            const bgc = useBg ? (bg as Uint8ClampedArray)[j + 1] : cg;
            const bb = useBg ? (bg as Uint8ClampedArray)[j + 2] : cb;
            r += img[j] * m + br * n; g += img[j + 1] * m + bgc * n; b += img[j + 2] * m + bb * n; a += 255;
          } else {
            r += img[j] * m; g += img[j + 1] * m; b += img[j + 2] * m; a += m;
          }
        }
        const q = ox * 4;
        acc[q] += r; acc[q + 1] += g; acc[q + 2] += b; acc[q + 3] += a;
        count[ox] += xEnd - ox * k;
      }
    }
    for (let ox = 0; ox < tw; ox++) {
      const q = ox * 4, o = (oy * tw + ox) * 4, a = acc[q + 3];
      // opaque: sums of (colour * 255); transparent: alpha-weighted colour sums over alpha
      const div = opaque ? a : a > 0 ? a : 1;
      out[o] = acc[q] / div; out[o + 1] = acc[q + 1] / div; out[o + 2] = acc[q + 2] / div;
      out[o + 3] = a / count[ox];
    }
    if (performance.now() - slice > SLICE_MS) {
      await (opts.yieldTo ?? macrotask)();
      if (opts.cancelled?.()) return null;
      slice = performance.now();
    }
  }
  return opts.cancelled?.() ? null : { data: out, width: tw, height: th };
}

/** Encode as WebP (PNG where WebP encoding is missing); halve the size until it fits. */
export async function encodeSnapshot(scene: Scene, mask: Uint8Array, opts: RenderOptions = {}): Promise<{ blob: Blob; width: number; height: number } | null> {
  let maxPixels = opts.maxPixels ?? SNAPSHOT_MAX_PIXELS;
  for (let attempt = 0; attempt < 4; attempt++, maxPixels /= 4) {
    const px = await renderSnapshot(scene, mask, { ...opts, maxPixels });
    if (!px) return null;
    const [width, height] = [px.width, px.height];
    const off = await opts.encode?.(px.data, width, height, "image/webp", 0.85);
    if (off) {
      if (off.size <= SNAPSHOT_MAX_BYTES) return { blob: off, width, height };
      continue;
    }
    if (px.data.byteLength === 0) return null; // handed to a worker that failed: next time
    const canvas = new OffscreenCanvas(px.width, px.height);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2d OffscreenCanvas context");
    ctx.putImageData(new ImageData(px.data as Uint8ClampedArray<ArrayBuffer>, px.width, px.height), 0, 0);
    const blob = await canvas.convertToBlob({ type: "image/webp", quality: 0.85 });
    if (blob.size <= SNAPSHOT_MAX_BYTES) return { blob, width: px.width, height: px.height };
  }
  return null;
}
