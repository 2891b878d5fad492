// How the benchmark packs a mask for the kernel: deflated (zlib), and base64 for page.evaluate.

/** Deflate bytes (zlib format, as Python's zlib.decompress reads). */
export async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Base64 of bytes, in slices (String.fromCharCode takes a bounded argument count). */
export function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}
