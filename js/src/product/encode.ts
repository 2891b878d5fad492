// Encode a product photo's pixels. PNG is written here, byte for byte from the pixels (a canvas
// would premultiply alpha and change semi-transparent colours); JPEG and WebP go through the
// browser's own encoder (OffscreenCanvas.convertToBlob), the one step allowed to differ from
// the kernel's PIL. Untagged, i.e. sRGB.
import type { Format } from "./spec";

export const MIME: Record<Format, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, (crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0);
  return out;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function opaque(rgba: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

/** A PNG of straight RGBA pixels: RGB when every pixel is opaque, else RGBA; filter "Sub". */
export async function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Uint8Array> {
  const channels = opaque(rgba) ? 3 : 4;
  const line = width * channels;
  const raw = new Uint8Array((line + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (line + 1);
    raw[o] = 1; // Sub: each byte minus the same channel of the pixel to its left
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = rgba[(y * width + x) * 4 + c];
        const left = x > 0 ? rgba[(y * width + x - 1) * 4 + c] : 0;
        raw[o + 1 + x * channels + c] = (v - left) & 0xff;
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", await deflate(raw)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The encoded file: PNG here; JPEG / WebP by the browser's encoder at `quality` (1..100). */
export async function encodeProduct(rgba: Uint8ClampedArray, width: number, height: number, format: Format, quality: number): Promise<Uint8Array> {
  if (format === "png") return encodePng(rgba, width, height);
  if (format === "jpeg" && !opaque(rgba)) throw new Error("JPEG cannot hold transparent pixels; choose png or webp");
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d context on OffscreenCanvas");
  ctx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  const blob = await canvas.convertToBlob({ type: MIME[format], quality: quality / 100 });
  canvas.width = canvas.height = 0;
  if (blob.type !== MIME[format]) throw new Error(`this browser cannot encode ${format} (got ${blob.type})`);
  return new Uint8Array(await blob.arrayBuffer());
}
