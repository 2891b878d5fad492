// Main-thread side of the editor worker (ops-worker.ts): heavy whole-mask ops and full-size
// background pixels run there; if no worker can start (or it fails), the same code runs here.
import workerSource from "virtual:editor-worker-source";
import { applyOp } from "./ops";
import type { EditOp, MaskBuffer, Rect } from "./types";

export type OffloadRequest =
  | { id: number; type: "op"; op: EditOp; width: number; height: number; mask: ArrayBuffer }
  | { id: number; type: "pixels"; source: ImageBitmap | RawImage; width: number; height: number; blur: number }
  | { id: number; type: "encode"; pixels: ArrayBuffer; width: number; height: number; mime: string; quality: number };

/** Straight RGBA pixels (the buffer is handed over to the worker). */
export interface RawImage { rgba: ArrayBuffer; width: number; height: number }

export type OffloadReply =
  | { id: number; type: "op"; mask: ArrayBuffer; dirty: Rect | null }
  | { id: number; type: "pixels"; pixels: ArrayBuffer }
  | { id: number; type: "blob"; blob: Blob }
  | { id: number; type: "error"; message: string };

/** Ops worth a trip to the worker (each scans or rewrites the whole mask, some many times). */
export const HEAVY_OPS: ReadonlySet<EditOp["op"]> = new Set(["threshold", "fill", "feather", "keep", "remove", "invert"]);

/**
 * The page's one editor worker, shared by every editor of the page and never terminated:
 * Chromium keeps ~1.9 MiB of renderer RSS per dedicated worker started and terminated (a
 * dummy anywidget doing that once per render, 16 re-runs), so an editor with its own worker,
 * replaced by a re-run cell, would leave that much behind each time. The worker keeps
 * nothing between requests. Keyed by its source on globalThis (anywidget evaluates widget.js
 * once per widget model, so module variables are per widget).
 */
interface SharedWorker {
  worker: Worker | null;
  failed: boolean;
  next: number;
  waiting: Map<number, { ok: (r: OffloadReply) => void; fail: (e: Error) => void }>;
}

function sharedWorkers(): Map<string, SharedWorker> {
  const g = globalThis as unknown as { __pixel_liberation_editor_workers?: Map<string, SharedWorker> };
  return (g.__pixel_liberation_editor_workers ??= new Map());
}

function broken(shared: SharedWorker, err: Error): void {
  console.warn("pixel-liberation: the editor worker is not available; editing on the page", err);
  shared.failed = true;
  shared.worker?.terminate();
  shared.worker = null;
  for (const w of shared.waiting.values()) w.fail(err);
  shared.waiting.clear();
}

/** The shared editor worker, started on first use (its `worker` is null when none can run here). */
function editorWorker(): SharedWorker {
  const all = sharedWorkers();
  let shared = all.get(workerSource);
  if (!shared) {
    shared = { worker: null, failed: false, next: 1, waiting: new Map() };
    all.set(workerSource, shared);
  }
  if (shared.worker || shared.failed) return shared;
  const s = shared;
  try {
    const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
    s.worker = new Worker(url, { type: "module", name: "pixel-liberation-editor" });
    URL.revokeObjectURL(url);
    s.worker.onmessage = (e: MessageEvent<OffloadReply>) => {
      const w = s.waiting.get(e.data.id);
      s.waiting.delete(e.data.id);
      if (!w) return;
      if (e.data.type === "error") w.fail(new Error(e.data.message));
      else w.ok(e.data);
    };
    s.worker.onerror = (e) => broken(s, new Error(`editor worker failed: ${e.message}`));
  } catch (err) {
    broken(s, err instanceof Error ? err : new Error(String(err)));
  }
  return s;
}

/** One editor's use of the page's editor worker. */
export class Offload {
  /** destroy() was called. */
  private failed = false;
  /** This editor's requests still waiting: failed on destroy(), so nothing waits for them. */
  private readonly mine = new Set<number>();

  /** No worker for this editor: closed, or the page's editor worker failed (work runs here). */
  private get unavailable(): boolean {
    return this.failed || (sharedWorkers().get(workerSource)?.failed ?? false);
  }

  private call(req: OffloadRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never, transfer: Transferable[]): Promise<OffloadReply> {
    const shared = editorWorker();
    const worker = shared.worker;
    if (!worker || this.failed) {
      return Promise.reject(new Error("no editor worker"));
    }
    const id = shared.next++;
    this.mine.add(id);
    return new Promise<OffloadReply>((ok, fail) => {
      shared.waiting.set(id, { ok, fail });
      worker.postMessage({ ...req, id }, transfer);
    }).finally(() => this.mine.delete(id));
  }

  /** Apply `op` to a copy of `m`; returns the new mask bytes and the changed rectangle. */
  async op(op: EditOp, m: MaskBuffer): Promise<{ data: Uint8Array; dirty: Rect | null }> {
    if (!this.unavailable) {
      const mask = m.data.slice().buffer as ArrayBuffer;
      try {
        const r = await this.call({ type: "op", op, width: m.width, height: m.height, mask }, [mask]);
        if (r.type === "op") return { data: new Uint8Array(r.mask), dirty: r.dirty };
      } catch (err) {
        if (!this.unavailable) throw err; // the op itself failed: same error here
      }
    }
    const copy = { ...m, data: m.data.slice() };
    const dirty = applyOp(copy, op, new Uint8Array(0), () => { throw new Error("load ops are not offloaded"); });
    return { data: copy.data, dirty };
  }

  /** `src` drawn to cover w x h (optionally blurred), as RGBA; null when no worker is available. */
  async pixels(src: ImageBitmap | RawImage, width: number, height: number, blur: number): Promise<Uint8ClampedArray | null> {
    if (this.unavailable) return null;
    const copy = src instanceof ImageBitmap ? await createImageBitmap(src) : src;
    try {
      const r = await this.call({ type: "pixels", source: copy, width, height, blur }, [copy instanceof ImageBitmap ? copy : copy.rgba]);
      return r.type === "pixels" ? new Uint8ClampedArray(r.pixels) : null;
    } catch {
      return null;
    }
  }

  /** Encode RGBA pixels (the buffer is handed over); null when no worker is available. */
  async encode(pixels: Uint8ClampedArray, width: number, height: number, mime: string, quality: number): Promise<Blob | null> {
    if (this.unavailable) return null;
    const buf = pixels.buffer as ArrayBuffer;
    try {
      const r = await this.call({ type: "encode", pixels: buf, width, height, mime, quality }, [buf]);
      return r.type === "blob" ? r.blob : null;
    } catch {
      return null;
    }
  }

  /** This editor is done: its waiting requests fail; the shared worker stays for the others. */
  destroy(): void {
    this.failed = true;
    const shared = sharedWorkers().get(workerSource);
    for (const id of this.mine) {
      const w = shared?.waiting.get(id);
      shared?.waiting.delete(id);
      w?.fail(new Error("the editor was closed"));
    }
    this.mine.clear();
  }
}
