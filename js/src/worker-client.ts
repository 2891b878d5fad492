// Typed request/response client for the engine worker, plus a page-wide shared instance.
// The worker's code is inlined into widget.js (see build.mjs) and started from a Blob URL:
// anywidget serves widget.js from a revoked blob URL, so nothing can be fetched relative to it.
import workerSource from "virtual:worker-source";
import type {
  RequestOf,
  WorkerAnswer,
  WorkerEnvelope,
  WorkerReplies,
  WorkerRequestType,
} from "./protocol";

interface Waiter {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

export class WorkerDied extends Error {}

const FATAL_ON_TIMEOUT: ReadonlySet<WorkerRequestType> = new Set(["load", "run"]);

export class WorkerClient {
  private readonly worker: Worker;
  private url: string | null;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private dead: string | null = null;
  /** sha256 of the model whose session the worker holds (null: none). */
  model: string | null = null;

  /** `source`: the worker bundle to run (default: the wasm engine; see worker-webgpu-pool.ts). */
  constructor(source: string = workerSource) {
    const blob = new Blob([source], { type: "text/javascript" });
    this.url = URL.createObjectURL(blob);
    this.worker = new Worker(this.url, { type: "module", name: "pixel-liberation-engine" });
    // Threaded ORT re-loads the worker script for its pthreads, so keep the URL alive then.
    if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) this.revoke();
    this.worker.addEventListener("message", (ev: MessageEvent<WorkerAnswer>) => this.answer(ev.data));
    this.worker.addEventListener("error", (ev: ErrorEvent) => {
      ev.preventDefault();
      this.fail(`worker error: ${ev.message || "failed to start"}`);
    });
    this.worker.addEventListener("messageerror", () => this.fail("worker message could not be decoded"));
  }

  get alive(): boolean {
    return this.dead === null;
  }

  get busy(): boolean {
    return this.waiters.size > 0;
  }

  private revoke(): void {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  private answer(msg: WorkerAnswer): void {
    const w = this.waiters.get(msg.id);
    if (!w) return;
    this.waiters.delete(msg.id);
    if (w.timer) clearTimeout(w.timer);
    if ("error" in msg) w.reject(new Error(msg.error));
    else w.resolve(msg.result as never);
  }

  private fail(reason: string): void {
    if (this.dead === null) this.dead = reason;
    for (const w of this.waiters.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new WorkerDied(reason));
    }
    this.waiters.clear();
  }

  request<T extends WorkerRequestType>(
    req: RequestOf<T>,
    timeoutMs: number,
    transfer: Transferable[] = [],
  ): Promise<WorkerReplies[T]> {
    if (this.dead !== null) return Promise.reject(new WorkerDied(this.dead));
    const id = this.nextId++;
    return new Promise<WorkerReplies[T]>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.waiters.delete(id);
              reject(new Error(`worker '${req.type}' timed out after ${Math.round(timeoutMs / 1000)} s`));
              // a stuck model run or load is fatal; other requests may just wait behind one
              if (FATAL_ON_TIMEOUT.has(req.type)) this.terminate(`'${req.type}' timed out`);
            }, timeoutMs)
          : null;
      this.waiters.set(id, { resolve: resolve as (v: never) => void, reject, timer });
      const env: WorkerEnvelope = { id, req };
      this.worker.postMessage(env, transfer);
    });
  }

  terminate(reason = "terminated"): void {
    this.worker.terminate();
    this.revoke();
    this.fail(reason);
  }
}

// ------------------------------------------------------------- shared, reference-counted
// anywidget evaluates widget.js once per widget model, so module variables are per widget.
// What the page's widgets share (one worker, one hello queue) lives on globalThis, under a key
// that includes the build id: widgets of another build get their own.
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

export function pageState(): PageState {
  const g = globalThis as unknown as Record<string, PageState | undefined>;
  const key = `__pixel_liberation_engine_${__BUILD_ID__}`;
  return (g[key] ??= { worker: null, users: 0, gate: Promise.resolve(), idleTimer: null });
}

/** The page's engine worker (started on first use); pair with releaseWorker(). */
export function acquireWorker(): WorkerClient {
  const page = pageState();
  if (page.idleTimer) clearTimeout(page.idleTimer);
  page.idleTimer = null;
  if (!page.worker || !page.worker.alive) page.worker = new WorkerClient();
  page.users++;
  return page.worker;
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
    page.worker = new WorkerClient();
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
