// The page's shared, reference-counted engine worker (wasm) and the page-wide hello queue.
// anywidget evaluates widget.js once per widget model, so module variables are per widget.
// What the page's widgets share (one worker, one hello queue) lives on globalThis, under a key
// that includes the build id: widgets of another build get their own.
import { recycleIdleMs } from "./recycle-delay";
import { WorkerClient } from "./worker-client";

declare const __BUILD_ID__: string;

interface PageState {
  worker: WorkerClient | null;
  users: number;
  gate: Promise<void>;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

/** How long an unused worker (and its loaded session) is kept: re-running a cell re-creates
 * the widget, and the new view should find the session ready. */
export const IDLE_WORKER_MS = 30_000;

function pageState(): PageState {
  const g = globalThis as unknown as Record<string, PageState | undefined>;
  const key = `__pixel_liberation_engine_${__BUILD_ID__}`;
  return (g[key] ??= { worker: null, users: 0, gate: Promise.resolve(), idleTimer: null });
}

/** The page's engine worker (started on first use); pair with releaseWorker(). */
export function acquireWorker(): WorkerClient {
  const page = pageState();
  if (page.idleTimer) clearTimeout(page.idleTimer);
  page.idleTimer = null;
  if (!page.worker || !page.worker.alive) page.worker = newPageWorker(page);
  page.users++;
  return page.worker;
}

/** A fresh page worker that recycles itself after idling (recycle-delay.ts). */
function newPageWorker(page: PageState): WorkerClient {
  const client = new WorkerClient();
  client.recycleWhenIdleFor(recycleIdleMs(), () => {
    if (page.worker === client) page.worker = null;
  });
  return client;
}

/** Recycle the page's engine worker now (or when its current request ends): the kernel
 * asked (`recycle_engine()`). The next run starts a fresh worker. */
export function recyclePageWorker(): boolean {
  const worker = pageState().worker;
  worker?.recycle();
  return worker !== null;
}

/** Drop one user; once none is left for IDLE_WORKER_MS the worker is terminated (returning
 * its WASM memory). A worker that is not the page's current one goes at once. */
export function releaseWorker(client: WorkerClient): void {
  const page = pageState();
  page.users = Math.max(0, page.users - 1);
  if (page.worker !== client && client.alive && !client.busy) client.terminate("replaced");
  const current = page.worker;
  if (page.users > 0 || !current) return;
  if (page.idleTimer) clearTimeout(page.idleTimer);
  page.idleTimer = setTimeout(() => {
    page.idleTimer = null;
    if (page.users === 0 && page.worker === current) {
      current.terminate("no widget left");
      page.worker = null;
    }
  }, IDLE_WORKER_MS);
}

/** A worker ready to load `model`: the shared one, recycled first when it holds another model
 * and is idle (WASM memory never shrinks, so a fresh worker is the only way to return it). */
export function workerFor(client: WorkerClient, model: string): WorkerClient {
  const page = pageState();
  if (client !== page.worker || !client.alive) return client;
  if (client.model !== null && client.model !== model && !client.busy) {
    client.terminate("switching models");
    page.worker = newPageWorker(page);
    return page.worker;
  }
  return client;
}

/** Wait for this view's turn to say hello; call `done` once its assets have arrived. */
export function queueHello(): { turn: Promise<void>; done: () => void } {
  const page = pageState();
  const previous = page.gate;
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  page.gate = previous.then(() => mine);
  return { turn: previous, done };
}
