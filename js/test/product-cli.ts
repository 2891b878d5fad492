// Runs the TypeScript product step for tests/segmentation/product/test_product.py (TS <-> numpy parity).
// Usage: node product-cli.mjs case.json out.bin
//   case.json = {width, height, pixels: base64 RGBA, mask: base64, spec: ProductSpec.to_dict(),
//                background?: {width, height, pixels: base64 RGBA}, max_pixels?}
// out.bin: the canvas RGBA; stdout: JSON {frame, fill} or {error}.
import { readFileSync, writeFileSync } from "node:fs";
import { productPixels } from "../src/product/compose";
import { parseSpec } from "../src/product/spec";

interface Raw { width: number; height: number; pixels: string }
interface Case extends Raw { mask: string; spec: unknown; background?: Raw | null; max_pixels?: number }

const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, "base64"));
const c = JSON.parse(readFileSync(process.argv[2], "utf8")) as Case;
try {
  const spec = parseSpec(c.spec);
  const bg = c.background ? { width: c.background.width, height: c.background.height, data: bytes(c.background.pixels) } : null;
  const out = productPixels({ width: c.width, height: c.height, data: bytes(c.pixels) }, bytes(c.mask), spec, bg, c.max_pixels);
  writeFileSync(process.argv[3], out.pixels);
  process.stdout.write(JSON.stringify({ frame: out.frame, fill: out.fill }));
} catch (err) {
  process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
}
