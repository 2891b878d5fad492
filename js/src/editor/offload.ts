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

export class Offload {
  private worker: Worker | null = null;
  private failed = false;
  private next = 1;
  private readonly waiting = new Map<number, { ok: (r: OffloadReply) => void; fail: (e: Error) => void }>();

  private start(): Worker | null {
    if (this.worker || this.failed) return this.worker;
    try {
      const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
      this.worker = new Worker(url, { type: "module", name: "pixel-liberation-editor" });
      URL.revokeObjectURL(url);
      this.worker.onmessage = (e: MessageEvent<OffloadReply>) => {
        const w = this.waiting.get(e.data.id);
        this.waiting.delete(e.data.id);
        if (!w) return;
        if (e.data.type === "error") w.fail(new Error(e.data.message));
        else w.ok(e.data);
      };
      this.worker.onerror = (e) => this.broken(new Error(`editor worker failed: ${e.message}`));
    } catch (err) {
      this.broken(err instanceof Error ? err : new Error(String(err)));
    }
    return this.worker;
  }

  private broken(err: Error): void {
    console.warn("pixel-liberation: the editor worker is not available; editing on the page", err);
    this.failed = true;
    this.worker?.terminate();
    this.worker = null;
    for (const w of this.waiting.values()) w.fail(err);
    this.waiting.clear();
  }

  private call(req: OffloadRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never, transfer: Transferable[]): Promise<OffloadReply> {
    const worker = this.start();
    if (!worker) return Promise.reject(new Error("no editor worker"));
    const id = this.next++;
    return new Promise((ok, fail) => {
      this.waiting.set(id, { ok, fail });
      worker.postMessage({ ...req, id }, transfer);
    });
  }

  /** Apply `op` to a copy of `m`; returns the new mask bytes and the changed rectangle. */
  async op(op: EditOp, m: MaskBuffer): Promise<{ data: Uint8Array; dirty: Rect | null }> {
    if (!this.failed) {
      const mask = m.data.slice().buffer as ArrayBuffer;
      try {
        const r = await this.call({ type: "op", op, width: m.width, height: m.height, mask }, [mask]);
        if (r.type === "op") return { data: new Uint8Array(r.mask), dirty: r.dirty };
      } catch (err) {
        if (!this.failed) throw err; // the op itself failed: same error here
      }
    }
    const copy = { ...m, data: m.data.slice() };
    const dirty = applyOp(copy, op, new Uint8Array(0), () => { throw new Error("load ops are not offloaded"); });
    return { data: copy.data, dirty };
  }

  /** `src` drawn to cover w x h (optionally blurred), as RGBA; null when no worker is available. */
  async pixels(src: ImageBitmap | RawImage, width: number, height: number, blur: number): Promise<Uint8ClampedArray | null> {
    if (this.failed) return null;
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
    if (this.failed) return null;
    const buf = pixels.buffer as ArrayBuffer;
    try {
      const r = await this.call({ type: "encode", pixels: buf, width, height, mime, quality }, [buf]);
      return r.type === "blob" ? r.blob : null;
    } catch {
      return null;
    }
  }

  destroy(): void {
    this.worker?.terminate();
    this.worker = null;
    this.failed = true;
  }
}
