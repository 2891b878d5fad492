// The render bootstrap both kernel-backed widgets share (remover/widget.ts, batch/widget.ts):
// start the page's engine worker(s), mirror status traits into the view, and say `hello` to
// the kernel (cached assets, capabilities, blocker) in the page-wide hello queue.
import { blocker, combine, probeCapabilities } from "../engine/capabilities";
import { queueHello } from "../engine/page-worker";
import { readPerf } from "../engine/perf-store";
import type { WorkerClient } from "../engine/worker-client";
import type { Capabilities, HelloMsg } from "../protocol/common";

// The page's worker may be busy running another widget's model: be patient.
const PROBE_TIMEOUT_MS = 600_000;
const PLAN_TIMEOUT_MS = 30_000;
const TRANSFER_TIMEOUT_MS = 600_000;

/** `start()` when this page has Web Workers, else null; null too (with a console warning
 * naming `what`) if it throws. */
export function startWorkers<T>(start: () => T, what: string): T | null {
  try {
    return typeof Worker === "function" ? start() : null;
  } catch (err) {
    console.warn(`pixel-liberation: cannot start the ${what}`, err);
    return null;
  }
}

/** The part of an anywidget model that watching traits uses. */
export interface TraitEvents {
  on(eventName: `change:${string}`, callback: () => void): void;
  off(eventName: string, callback: () => void): void;
}

/** Call `show` now and whenever one of the traits `names` changes; returns the unsubscribe. */
export function watchTraits(model: TraitEvents, names: readonly string[], show: () => void): () => void {
  for (const name of names) model.on(`change:${name}`, show);
  show();
  return () => {
    for (const name of names) model.off(`change:${name}`, show);
  };
}

/** The page's capabilities combined with the worker's probe (null: no worker). */
async function capabilities(worker: WorkerClient | null): Promise<Capabilities> {
  const page = await probeCapabilities();
  if (!worker) return combine(page, null);
  try {
    return combine(page, await worker.request({ type: "probe" }, PROBE_TIMEOUT_MS));
  } catch {
    return combine(page, null);
  }
}

/** What saying hello needs of a view. */
export interface Greeter {
  link: { send(msg: Omit<HelloMsg, "view">): void };
  /** The view's job: `planned` resolves when the kernel's plan arrived, `settled` once the
   * assets it planned arrived (or failed), or the job closed. */
  job: { readonly planned: Promise<void>; readonly settled: Promise<void> };
  /** The worker that probes and reports the cached assets (null: none). */
  worker: () => WorkerClient | null;
}

/** Say hello to the kernel. One view at a time does (page-wide, across widgets): a later view
 * then finds the model and wasm cached instead of asking for them again. */
export async function sayHello({ link, job, worker }: Greeter): Promise<void> {
  const caps = await capabilities(worker());
  const queue = queueHello();
  await queue.turn;
  // never block later views for good: a view whose kernel does not answer lets them go
  let timer: ReturnType<typeof setTimeout> | null = setTimeout(queue.done, PLAN_TIMEOUT_MS);
  void job.planned.then(() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(queue.done, TRANSFER_TIMEOUT_MS);
  });
  void job.settled.then(() => {
    if (timer) clearTimeout(timer);
    timer = null;
    queue.done();
  });
  let have: string[] = [];
  let warm: string | null = null;
  const client = worker();
  if (client && client.alive) {
    try {
      ({ have, warm } = await client.request({ type: "have", shas: null }, PROBE_TIMEOUT_MS));
    } catch {
      have = [];
    }
  }
  const perf = await readPerf();
  link.send({ type: "hello", have, caps, blocker: blocker(caps), warm, perf });
}
