// The view's side of the kernel link: anywidget custom messages addressed by a view id.
// Binary payloads arrive as DataView; bytes go back in chunks small enough for tornado's
// 10 MiB websocket frame limit (a bigger frame drops the connection silently).
import type { AnyModel } from "@anywidget/types";

export const MASK_CHUNK = 2 * 1024 * 1024;

export type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

/** A custom message whose `type` is one of `types`, addressed to a view. */
export function isAddressed(msg: unknown, types: ReadonlySet<string>): msg is { type: string; view: string } {
  if (typeof msg !== "object" || msg === null) return false;
  const m = msg as { type?: unknown; view?: unknown };
  return typeof m.type === "string" && types.has(m.type) && typeof m.view === "string";
}

/** Copy a DataView's bytes into a standalone ArrayBuffer (transferable to the worker). */
export function ownBuffer(view: DataView): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}

/** Custom messages between one view and its kernel widget: it hears the kernel's messages of
 * `types` addressed to its id (`In`) and sends `Out` messages, to which it adds its id. */
export class ViewLink<In extends { type: string; view: string }, Out extends { type: string; view: string }> {
  readonly id = Math.random().toString(36).slice(2, 12);
  private readonly handler: (msg: unknown, buffers: DataView[]) => void;

  constructor(
    private readonly model: AnyModel,
    types: ReadonlySet<In["type"]>,
    onMessage: (msg: In, buffers: DataView[]) => void,
  ) {
    this.handler = (msg, buffers) => {
      if (isAddressed(msg, types) && msg.view === this.id) onMessage(msg as In, buffers ?? []);
    };
    model.on("msg:custom", this.handler);
  }

  send(msg: DistributiveOmit<Out, "view">, buffers: ArrayBuffer[] = []): void {
    this.model.send({ ...msg, view: this.id }, undefined, buffers);
  }

  /** Send `bytes`: one header (told the chunk count) then chunks of at most MASK_CHUNK bytes,
   * each chunk's bytes as its buffer 0. */
  protected sendChunked(
    bytes: Uint8Array,
    header: (total: number) => DistributiveOmit<Out, "view">,
    chunk: (seq: number, offset: number) => DistributiveOmit<Out, "view">,
  ): void {
    const total = Math.max(1, Math.ceil(bytes.byteLength / MASK_CHUNK));
    this.send(header(total));
    for (let seq = 0; seq < total; seq++) {
      const offset = seq * MASK_CHUNK;
      const part = bytes.slice(offset, Math.min(bytes.byteLength, offset + MASK_CHUNK));
      this.send(chunk(seq, offset), [part.buffer]);
    }
  }

  close(): void {
    this.model.off("msg:custom", this.handler);
  }
}
