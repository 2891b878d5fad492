// The benchmark's headless API: what the headless-Chromium runner (segmentation/evaluation/browser_runtime.py)
// calls through page.evaluate, as `window.pixelBench = headless()`; assets are fetched from the
// runner's local HTTP server (segmentation/evaluation/page_server.py).
import { availableThreads, probeCapabilities } from "../engine/capabilities";
import type { Capabilities } from "../protocol/common";
import { type BenchAsset, BenchWorker } from "./bench-worker";
import { base64, deflate } from "./encode";

/** An asset on the runner's server. */
export interface Served {
  sha256: string;
  url: string;
}
export interface ServedImage extends Served {
  mime: string;
  width: number;
  height: number;
}

export interface HeadlessLoad {
  session_create: number;
  execution_provider: string;
  threads: number;
  /** Milliseconds to fetch the model (and, the first time, the wasm) from the server. */
  fetch: number;
}
export interface HeadlessRun {
  inference: number[];
  decode: number;
  width: number;
  height: number;
  checksum: number;
  stable: boolean;
  /** The mask, deflated (zlib) then base64. */
  mask: string;
}

export interface HeadlessBench {
  caps(): Promise<Capabilities>;
  load(req: { model: Served; wasm: Served; threads: number }): Promise<HeadlessLoad>;
  run(req: { image: ServedImage; repeats: number }): Promise<HeadlessRun>;
  close(): void;
}

async function fetchBytes(asset: Served): Promise<Uint8Array> {
  const res = await fetch(asset.url);
  if (!res.ok) throw new Error(`GET ${asset.url} answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The API a headless page installs as `window.pixelBench`. */
export function headless(): HeadlessBench {
  let worker: BenchWorker | null = null;
  let wasm: BenchAsset | null = null;
  const close = (): void => {
    worker?.close();
    worker = null;
  };
  return {
    caps: () => probeCapabilities(),
    async load(req) {
      close();
      const t0 = performance.now();
      if (wasm === null || wasm.sha256 !== req.wasm.sha256) {
        wasm = { sha256: req.wasm.sha256, bytes: await fetchBytes(req.wasm) };
      }
      const model: BenchAsset = { sha256: req.model.sha256, bytes: await fetchBytes(req.model) };
      const fetched = performance.now() - t0;
      worker = new BenchWorker();
      await worker.put(wasm);
      await worker.put(model);
      const loaded = await worker.load(model.sha256, wasm.sha256, availableThreads(req.threads));
      return { ...loaded, fetch: fetched };
    },
    async run(req) {
      if (worker === null) throw new Error("load a model first");
      const bytes = await fetchBytes(req.image);
      const r = await worker.run({ ...req.image, bytes }, req.repeats);
      const mask = base64(await deflate(r.mask));
      return { inference: r.inference, decode: r.decode, width: r.width, height: r.height, checksum: r.checksum, stable: r.stable, mask };
    },
    close,
  };
}
