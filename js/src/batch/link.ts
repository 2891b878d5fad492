// BatchLink: the BatchRemover view's ViewLink (messages: protocol/batch.ts). It hears the
// kernel's plan and asset chunks, and sends each image's mask back in chunks tagged with the
// image's index.
import type { AnyModel } from "@anywidget/types";
import type { BatchKernelMsg, BatchOutgoingMsg, ImageBeginMsg } from "../protocol/batch";
import { ViewLink } from "../shared/kernel-link";

const KERNEL_TYPES: ReadonlySet<BatchKernelMsg["type"]> = new Set(["plan", "chunk", "img_asset", "img_skip", "recycle"]);

export class BatchLink extends ViewLink<BatchKernelMsg, BatchOutgoingMsg> {
  constructor(model: AnyModel, onMessage: (msg: BatchKernelMsg, buffers: DataView[]) => void) {
    super(model, KERNEL_TYPES, onMessage);
  }

  /** Send image `head.index`'s mask: one header then chunks of at most MASK_CHUNK bytes. */
  sendMask(head: Omit<ImageBeginMsg, "type" | "view" | "total">, mask: Uint8Array): void {
    this.sendChunked(
      mask,
      (total) => ({ type: "img_begin", ...head, total }),
      (seq, offset) => ({ type: "img_chunk", index: head.index, seq, offset }),
    );
  }
}
