// The view's side of the kernel link: anywidget custom messages addressed by view id.
// Binary payloads arrive as DataView; masks go back in chunks small enough for tornado's
// 10 MiB websocket frame limit (a bigger frame drops the connection silently).
import type { AnyModel } from "@anywidget/types";
import type { KernelMsg, MaskBeginMsg, ViewMsg } from "./protocol";

export const MASK_CHUNK = 2 * 1024 * 1024;

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;
export type Outgoing = DistributiveOmit<ViewMsg, "view">;

const KERNEL_TYPES = new Set(["plan", "chunk", "result"]);

export function isKernelMsg(msg: unknown): msg is KernelMsg {
  if (typeof msg !== "object" || msg === null) return false;
  const m = msg as { type?: unknown; view?: unknown };
  return typeof m.type === "string" && KERNEL_TYPES.has(m.type) && typeof m.view === "string";
}

/** Copy a DataView's bytes into a standalone ArrayBuffer (transferable to the worker). */
export function ownBuffer(view: DataView): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}

export class KernelLink {
  readonly id: string;
  private readonly handler: (msg: unknown, buffers: DataView[]) => void;

  constructor(
    private readonly model: AnyModel,
    onMessage: (msg: KernelMsg, buffers: DataView[]) => void,
  ) {
    this.id = Math.random().toString(36).slice(2, 12);
    this.handler = (msg, buffers) => {
      if (isKernelMsg(msg) && msg.view === this.id) onMessage(msg, buffers ?? []);
    };
    model.on("msg:custom", this.handler);
  }

  send(msg: Outgoing, buffers: ArrayBuffer[] = []): void {
    this.model.send({ ...msg, view: this.id }, undefined, buffers);
  }

  /** Send a mask: one header then chunks of at most MASK_CHUNK bytes. */
  sendMask(header: Omit<MaskBeginMsg, "type" | "view" | "total">, mask: Uint8Array): void {
    const total = Math.max(1, Math.ceil(mask.byteLength / MASK_CHUNK));
    this.send({ type: "mask_begin", ...header, total });
    for (let seq = 0; seq < total; seq++) {
      const offset = seq * MASK_CHUNK;
      const part = mask.slice(offset, Math.min(mask.byteLength, offset + MASK_CHUNK));
      this.send({ type: "mask_chunk", seq, offset }, [part.buffer]);
    }
  }

  close(): void {
    this.model.off("msg:custom", this.handler);
  }
}
