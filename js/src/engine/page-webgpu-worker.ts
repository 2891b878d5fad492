// The page's WebGPU engine worker: like the shared wasm worker (page-worker.ts) but running
// the ort.webgpu bundle. Started only for plans whose ep is "webgpu"; kept IDLE_WORKER_MS after
// its last job so a re-run cell finds its session, recycled when another model comes.
import webgpuWorkerSource from "virtual:worker-webgpu-source";
import { IDLE_WORKER_MS } from "./page-worker";
import { recycleIdleMs } from "./recycle-delay";
import { WorkerClient } from "./worker-client";

declare const __BUILD_ID__: string;

interface GpuPageState {
  worker: WorkerClient | null;
  users: number;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

function gpuState(): GpuPageState {
  const g = globalThis as unknown as Record<string, GpuPageState | undefined>;
  const key = `__pixel_liberation_webgpu_${__BUILD_ID__}`;
  return (g[key] ??= { worker: null, users: 0, idleTimer: null });
}

/** The page's WebGPU worker, ready for `model`; pair with releaseWebgpuWorker(). */
export function acquireWebgpuWorker(model: string): WorkerClient {
  const page = gpuState();
  if (page.idleTimer) clearTimeout(page.idleTimer);
  page.idleTimer = null;
  const current = page.worker;
  if (current && current.alive && current.model !== null && current.model !== model && !current.busy) {
    current.terminate("switching models");
    page.worker = null;
  }
  if (!page.worker || !page.worker.alive) {
    const client = new WorkerClient(webgpuWorkerSource);
    client.recycleWhenIdleFor(recycleIdleMs(), () => {
      if (page.worker === client) page.worker = null;
    });
    page.worker = client;
  }
  page.users++;
  return page.worker;
}

/** Recycle the page's WebGPU worker now, or once its current request ends. */
export function recycleWebgpuWorker(): boolean {
  const worker = gpuState().worker;
  worker?.recycle();
  return worker !== null;
}

/** Drop one user of `client`; the worker goes once none is left for IDLE_WORKER_MS. */
export function releaseWebgpuWorker(client: WorkerClient): void {
  const page = gpuState();
  page.users = Math.max(0, page.users - 1);
  if (page.worker !== client) {
    if (client.alive && !client.busy) client.terminate("replaced");
    return;
  }
  if (page.users > 0) return;
  if (page.idleTimer) clearTimeout(page.idleTimer);
  page.idleTimer = setTimeout(() => {
    page.idleTimer = null;
    if (page.users === 0 && page.worker === client) {
      client.terminate("no widget left");
      page.worker = null;
    }
  }, IDLE_WORKER_MS);
}
