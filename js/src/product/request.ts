// The engine worker's `product` request (engine/worker-protocol.ts): check what the page sent,
// run the product step (compose.ts) and encode it (encode.ts). Nothing is allocated before the
// sizes are checked against the buffers and the pixel limit.
import type { RequestOf, WorkerReplies } from "../engine/worker-protocol";
import { productPixels, type Pixels } from "./compose";
import { encodeProduct, MIME } from "./encode";
import { parseSpec } from "./spec";

/** Largest photo, background or canvas (pixels) unless the request names a lower limit. */
export const PRODUCT_MAX_PIXELS = 200_000_000;

function checkedPixels(what: string, width: unknown, height: unknown, buffer: unknown, channels: number, limit: number): Uint8Array {
  if (typeof width !== "number" || typeof height !== "number" || !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`product: ${what} size ${String(width)}x${String(height)} is not two positive whole numbers`);
  }
  if (width * height > limit) throw new Error(`product: ${what} of ${width}x${height} is above the pixel limit (${limit})`);
  if (!(buffer instanceof ArrayBuffer)) throw new Error(`product: ${what} pixels must be an ArrayBuffer`);
  if (buffer.byteLength !== width * height * channels) {
    throw new Error(`product: ${what} has ${buffer.byteLength} bytes, expected ${width}x${height}x${channels}`);
  }
  return new Uint8Array(buffer);
}

export async function productRequest(req: RequestOf<"product">): Promise<WorkerReplies["product"]> {
  const t0 = performance.now();
  const limit = typeof req.maxPixels === "number" && req.maxPixels > 0 ? Math.min(req.maxPixels, PRODUCT_MAX_PIXELS) : PRODUCT_MAX_PIXELS;
  const spec = parseSpec(req.spec);
  const photo: Pixels = { width: req.width, height: req.height, data: checkedPixels("photo", req.width, req.height, req.pixels, 4, limit) };
  const mask = checkedPixels("mask", req.width, req.height, req.mask, 1, limit);
  let background: Pixels | null = null;
  if (req.background) {
    const b = req.background;
    background = { width: b.width, height: b.height, data: checkedPixels("background", b.width, b.height, b.pixels, 4, limit) };
  }
  const out = productPixels(photo, mask, spec, background, limit);
  const t1 = performance.now();
  const encoded = req.encode === false ? null : await encodeProduct(out.pixels, out.frame.width, out.frame.height, spec.format, spec.quality);
  const t2 = performance.now();
  return {
    width: out.frame.width,
    height: out.frame.height,
    pixels: out.pixels.buffer as ArrayBuffer,
    encoded: encoded === null ? null : (encoded.buffer as ArrayBuffer),
    mime: MIME[spec.format],
    fill: out.fill,
    frame: { scale: out.frame.scale, ox: out.frame.ox, oy: out.frame.oy, box: out.frame.box },
    ms: { step: t1 - t0, encode: t2 - t1 },
  };
}
