// Typed request/response client for an engine worker (worker-protocol.ts).
// The worker's code is inlined into widget.js (see js/build.mjs) and started from a Blob URL:
// anywidget serves widget.js from a revoked blob URL, so nothing can be fetched relative to it.
// The page-wide shared instances: page-worker.ts, page-webgpu-worker.ts, worker-pool.ts.
import workerSource from "virtual:worker-source";
import type {
  RequestOf,
  WorkerAnswer,
  WorkerEnvelope,
  WorkerReplies,
  WorkerRequestType,
} from "./worker-protocol";

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
  private idleMs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private recycleSoon = false;
  private onRecycled: (() => void) | null = null;

  /** `source`: the worker bundle to run (default: the wasm engine; see page-webgpu-worker.ts). */
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
    this.armIdle();
  }

  /** Recycle (terminate) this worker once no request has been in flight for `ms` (0: never);
   * `onRecycled` then lets its owner forget it (a fresh worker starts on next use). */
  recycleWhenIdleFor(ms: number, onRecycled: () => void): void {
    this.idleMs = ms;
    this.onRecycled = onRecycled;
    this.armIdle();
  }

  /** Recycle as soon as no request is in flight (now, if none is). */
  recycle(): void {
    this.recycleSoon = true;
    this.armIdle();
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.dead !== null || this.waiters.size > 0) return;
    if (!this.recycleSoon && this.idleMs <= 0) return;
    this.idleTimer = setTimeout(
      () => {
        this.idleTimer = null;
        if (this.dead !== null || this.waiters.size > 0) return;
        this.terminate(this.recycleSoon ? "recycled on request" : "recycled after idling");
        this.onRecycled?.();
      },
      this.recycleSoon ? 0 : this.idleMs,
    );
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
              this.armIdle();
              reject(new Error(`worker '${req.type}' timed out after ${Math.round(timeoutMs / 1000)} s`));
              // a stuck model run or load is fatal; other requests may just wait behind one
              if (FATAL_ON_TIMEOUT.has(req.type)) this.terminate(`'${req.type}' timed out`);
            }, timeoutMs)
          : null;
      this.waiters.set(id, { resolve: resolve as (v: never) => void, reject, timer });
      this.armIdle(); // busy again: no recycling now
      const env: WorkerEnvelope = { id, req };
      this.worker.postMessage(env, transfer);
    });
  }

  terminate(reason = "terminated"): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.worker.terminate();
    this.revoke();
    this.fail(reason);
  }
}
