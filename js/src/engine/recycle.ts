// Recycling the page's engine workers on the kernel's request (`recycle_engine()` of either
// widget): WASM memory never shrinks after a session is released, so terminating the worker
// is the only way to give it back. Each worker goes as soon as it has no request in flight;
// the next run starts a fresh one, which reads the model from the IndexedDB asset cache.
import { recyclePageWorker } from "./page-worker";
import { recycleWebgpuWorker } from "./page-webgpu-worker";
import { recyclePool } from "./worker-pool";

/** Recycle the page's wasm and WebGPU workers and its batch pool; how many were running. */
export function recycleEngines(): number {
  return Number(recyclePageWorker()) + Number(recycleWebgpuWorker()) + recyclePool();
}
