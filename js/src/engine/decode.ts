// Turn image bytes sent by the kernel into straight (not premultiplied) RGBA pixels.
// Two encodings: an original opaque JPEG/PNG (decoded by the browser exactly like PIL does for
// such files), or "application/x-rgba+deflate": zlib-compressed raw RGBA of the kernel's
// normalised pixels (lossless for any alpha, where a canvas would premultiply).
import { releaseCanvas } from "../shared/release";

export const RAW_RGBA = "application/x-rgba+deflate";

export interface Decoded {
  pixels: Uint8ClampedArray;
  width: number;
  height: number;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function decodeImage(
  data: Uint8Array,
  mime: string,
  width: number,
  height: number,
): Promise<Decoded> {
  if (mime === RAW_RGBA) {
    const raw = await inflate(data);
    if (raw.byteLength !== width * height * 4) {
      throw new Error(`raw RGBA has ${raw.byteLength} bytes, expected ${width}x${height}x4`);
    }
    return { pixels: new Uint8ClampedArray(raw.buffer, raw.byteOffset, raw.byteLength), width, height };
  }
  const bitmap = await createImageBitmap(new Blob([data as Uint8Array<ArrayBuffer>], { type: mime }), {
    premultiplyAlpha: "none",
    colorSpaceConversion: "none",
    imageOrientation: "none",
  });
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) throw new Error("no 2d context on OffscreenCanvas");
    ctx.drawImage(bitmap, 0, 0);
    const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    releaseCanvas(canvas); // its width*height*4 backing store goes now, not at a later GC
    return { pixels: img.data, width: img.width, height: img.height };
  } finally {
    bitmap.close();
  }
}

/** Size that fits `maxSide`, keeping the aspect ratio. */
export function fitSize(width: number, height: number, maxSide: number): [number, number] {
  const s = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

/** A downscaled bitmap of RGBA pixels for display. */
export async function previewBitmap(d: Decoded, maxSide: number): Promise<ImageBitmap> {
  const [w, h] = fitSize(d.width, d.height, maxSide);
  const data = new ImageData(d.pixels as Uint8ClampedArray<ArrayBuffer>, d.width, d.height);
  return createImageBitmap(data, { resizeWidth: w, resizeHeight: h, resizeQuality: "medium" });
}

/** A downscaled bitmap whose alpha is the mask (for compositing a cut-out). */
export async function maskBitmap(
  mask: Uint8Array,
  width: number,
  height: number,
  maxSide: number,
): Promise<ImageBitmap> {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, j = 3; i < mask.length; i++, j += 4) rgba[j] = mask[i];
  const [w, h] = fitSize(width, height, maxSide);
  return createImageBitmap(new ImageData(rgba, width, height), {
    resizeWidth: w,
    resizeHeight: h,
    resizeQuality: "medium",
    premultiplyAlpha: "none",
  });
}
