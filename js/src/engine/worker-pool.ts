// A page-wide pool of single-threaded engine workers, for batches.
// Without cross-origin isolation onnxruntime-web runs on one thread, so the only way to use
// every core is several workers, each with its own session. Each worker is an ordinary engine
// worker (worker-wasm.ts): the model and wasm are put into the first one, which stores them in
// the IndexedDB asset cache; the others read them from there on `load`.
// The pool lives on globalThis under the build id, like the single widget's worker
// (page-worker.ts), so all batch widgets of a page share it; it is terminated IDLE_POOL_MS after
// its last user left.
import { recycleIdleMs } from "./recycle-delay";
import { WorkerClient } from "./worker-client";

declare const __BUILD_ID__: string;

/** Each ISNet session holds ~1 GB of WASM heap at 1024x1024: one worker per 2 GB of RAM. */
export const GB_PER_WORKER = 2;
export const IDLE_POOL_MS = 30_000;

export interface PoolSize {
  size: number;
  /** What limited the size, in words (empty when the request was honoured as is). */
  reason: string;
}

/** How many workers to run: `requested` (> 0) as is, else min(cores, maxDefault, memory cap),
 * and never more than `jobs`. */
export function poolSize(
  requested: number,
  maxDefault: number,
  jobs: number,
  cores: number,
  deviceMemoryGb: number | undefined,
): PoolSize {
  let size: number;
  let reason = "";
  if (requested > 0) {
    size = requested;
  } else {
    size = Math.max(1, Math.min(cores, maxDefault));
    reason = size === maxDefault && cores > maxDefault ? `default cap of ${maxDefault}` : `${cores} cores`;
    if (deviceMemoryGb !== undefined && deviceMemoryGb > 0) {
      const byMemory = Math.max(1, Math.floor(deviceMemoryGb / GB_PER_WORKER));
      if (byMemory < size) [size, reason] = [byMemory, `${deviceMemoryGb} GB of device memory`];
    }
  }
  if (jobs < size) [size, reason] = [Math.max(1, jobs), `${jobs} images`];
  return { size, reason };
}

/** poolSize() with this browser's cores and memory. */
export function browserPoolSize(requested: number, maxDefault: number, jobs: number): PoolSize {
  const nav = navigator as Navigator & { deviceMemory?: number };
  return poolSize(requested, maxDefault, jobs, nav.hardwareConcurrency ?? 1, nav.deviceMemory);
}

interface Slot {
  client: WorkerClient;
  /** Tail of the tasks queued on this worker: one task holds it at a time. */
  tail: Promise<unknown>;
}

interface PoolState {
  slots: (Slot | null)[];
  users: number;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

function poolState(): PoolState {
  const g = globalThis as unknown as Record<string, PoolState | undefined>;
  return (g[`__pixel_liberation_pool_${__BUILD_ID__}`] ??= { slots: [], users: 0, idleTimer: null });
}

export class Pool {
  private released = false;
  constructor(private readonly state: PoolState) {}

  /** The worker of slot `index`, started (or restarted after it died) on demand. */
  client(index: number): WorkerClient {
    const slots = this.state.slots;
    while (slots.length <= index) slots.push(null);
    let slot = slots[index];
    if (!slot || !slot.client.alive) {
      const client = new WorkerClient();
      // an idle pool worker recycles itself; the next task re-creates it (session from IndexedDB)
      client.recycleWhenIdleFor(recycleIdleMs(), () => undefined);
      slot = { client, tail: Promise.resolve() };
      slots[index] = slot;
    }
    return slot.client;
  }

  /** The pool's workers that are running now (none is started). */
  running(): WorkerClient[] {
    return this.state.slots.flatMap((s) => (s && s.client.alive ? [s.client] : []));
  }

  /** Run `task` on worker `index` once the tasks queued before it there have finished. */
  use<T>(index: number, task: (client: WorkerClient) => Promise<T>): Promise<T> {
    this.client(index);
    const slot = this.state.slots[index] as Slot;
    const next = slot.tail.then(() => task(this.client(index)));
    slot.tail = next.catch(() => undefined);
    return next;
  }

  /** Drop this user; the pool's workers go IDLE_POOL_MS after the last user left. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const state = this.state;
    state.users = Math.max(0, state.users - 1);
    if (state.users > 0) return;
    if (state.idleTimer) clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(() => {
      state.idleTimer = null;
      if (state.users > 0) return;
      for (const slot of state.slots) slot?.client.terminate("no batch left");
      state.slots = [];
    }, IDLE_POOL_MS);
  }
}

/** The page's pool (workers start on first use); pair with Pool.release(). */
export function acquirePool(): Pool {
  const state = poolState();
  if (state.idleTimer) clearTimeout(state.idleTimer);
  state.idleTimer = null;
  state.users++;
  return new Pool(state);
}

/** Recycle every worker of the page's pool now, or each once its current request ends. */
export function recyclePool(): number {
  const slots = poolState().slots;
  let n = 0;
  for (const slot of slots) {
    if (slot && slot.client.alive) {
      slot.client.recycle();
      n++;
    }
  }
  return n;
}
