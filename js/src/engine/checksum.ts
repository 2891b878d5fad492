// Checksum of RGBA pixel bytes, identical to segmentation.pixels.pixels_checksum:
//   sum_i p[i] * ((i mod 65521) + 1)  mod 2**32   over the flattened bytes.
// It proves the browser fed the model exactly the pixels the kernel decoded.

const MOD = 65521;

export function pixelsChecksum(bytes: Uint8Array | Uint8ClampedArray): number {
  let acc = 0;
  let w = 1;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    acc = (acc + bytes[i] * w) >>> 0;
    w++;
    if (w > MOD) w = 1;
  }
  return acc;
}
