// RemoverLink: the BackgroundRemover view's ViewLink (messages: protocol/remover.ts). It hears
// the kernel's plan, asset chunks and result chunks, and sends the mask back in chunks.
import type { AnyModel } from "@anywidget/types";
import type { KernelMsg, MaskBeginMsg, ViewMsg } from "../protocol/remover";
import { ViewLink } from "../shared/kernel-link";

const KERNEL_TYPES: ReadonlySet<KernelMsg["type"]> = new Set(["plan", "chunk", "result", "recycle"]);

export class RemoverLink extends ViewLink<KernelMsg, ViewMsg> {
  constructor(model: AnyModel, onMessage: (msg: KernelMsg, buffers: DataView[]) => void) {
    super(model, KERNEL_TYPES, onMessage);
  }

  /** Send a mask: one header then chunks of at most MASK_CHUNK bytes. */
  sendMask(header: Omit<MaskBeginMsg, "type" | "view" | "total">, mask: Uint8Array): void {
    this.sendChunked(
      mask,
      (total) => ({ type: "mask_begin", ...header, total }),
      (seq, offset) => ({ type: "mask_chunk", seq, offset }),
    );
  }
}
