// The benchmark's engine worker, shared by the headless page and the in-tab benchmark widget.
// It drives the engine's own worker (engine/worker-wasm.ts) with the same put/load/decode/run
// requests the widget uses, one fresh worker per model: WASM memory never shrinks, so a variant
// measured after a bigger one would otherwise inherit its heap.
import { WorkerClient } from "../engine/worker-client";

const LOAD_TIMEOUT_MS = 600_000;
const RUN_TIMEOUT_MS = 900_000;
const PUT_TIMEOUT_MS = 120_000;

/** An asset as the benchmark moves it: its sha256 and its bytes. */
export interface BenchAsset {
  sha256: string;
  bytes: Uint8Array;
}

/** An image: its encoded bytes plus how the worker decodes them (see engine/decode.ts). */
export interface BenchImage extends BenchAsset {
  mime: string;
  width: number;
  height: number;
}

export interface LoadResult {
  /** InferenceSession.create in the worker, milliseconds. */
  session_create: number;
  execution_provider: string;
  threads: number;
}

export interface ImageResult {
  /** Inference milliseconds of each repeat (session.run in the worker). */
  inference: number[];
  /** Decode milliseconds of the first repeat (not part of inference). */
  decode: number;
  width: number;
  height: number;
  /** Checksum of the decoded RGBA pixels (segmentation.pixels.pixels_checksum). */
  checksum: number;
  /** The last repeat's mask, uint8 [height, width]. */
  mask: Uint8Array;
  /** Whether every repeat gave the same mask. */
  stable: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Copy bytes into a standalone ArrayBuffer that can be transferred to the worker. */
function ownCopy(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

/** One engine worker holding (at most) one model session. */
export class BenchWorker {
  private readonly client = new WorkerClient();
  private model: string | null = null;

  /** Hand over a whole asset as one chunk (`cache`: also store it in IndexedDB). */
  async put(asset: BenchAsset, cache = false): Promise<void> {
    const data = ownCopy(asset.bytes);
    const size = data.byteLength;
    const req = { type: "put" as const, sha256: asset.sha256, seq: 0, total: 1, size, offset: 0, cache, data };
    const done = await this.client.request(req, PUT_TIMEOUT_MS, [data]);
    if (!done.complete) throw new Error(`asset ${asset.sha256.slice(0, 12)} did not complete`);
  }

  /** Which of `shas` (null: any) the page's IndexedDB asset cache holds. */
  async cached(shas: string[] | null): Promise<string[]> {
    return (await this.client.request({ type: "have", shas }, PUT_TIMEOUT_MS)).have;
  }

  /** Create the session of an already-put (or cached) model with an already-put wasm. */
  async load(model: string, wasm: string, threads: number): Promise<LoadResult> {
    const r = await this.client.request({ type: "load", model, wasm, threads }, LOAD_TIMEOUT_MS);
    this.model = model;
    return { session_create: r.session_create, execution_provider: r.execution_provider, threads: r.threads };
  }

  /** Run the loaded model `repeats` times on one image; the worker times each inference. */
  async run(image: BenchImage, repeats: number): Promise<ImageResult> {
    if (this.model === null) throw new Error("no model loaded");
    const inference: number[] = [];
    let first: Uint8Array | null = null;
    let last: Uint8Array | null = null;
    let stable = true;
    let decode = 0;
    let checksum = 0;
    let size: [number, number] = [image.width, image.height];
    for (let r = 0; r < Math.max(1, repeats); r++) {
      // The worker consumes an image when it decodes it and drops it after the run.
      await this.put(image);
      const d = await this.client.request(
        { type: "decode", image: image.sha256, mime: image.mime, width: image.width, height: image.height, maxSide: 1 },
        PUT_TIMEOUT_MS,
      );
      d.preview.close();
      if (r === 0) [decode, checksum] = [d.ms, d.checksum];
      const out = await this.client.request({ type: "run", model: this.model, image: image.sha256 }, RUN_TIMEOUT_MS);
      inference.push(out.inference);
      size = [out.width, out.height];
      last = new Uint8Array(out.mask);
      if (first === null) first = last;
      else stable = stable && sameBytes(first, last);
    }
    if (last === null) throw new Error("no run happened");
    return { inference, decode, width: size[0], height: size[1], checksum, mask: last, stable };
  }

  close(): void {
    this.client.terminate("benchmark finished with this model");
  }
}
