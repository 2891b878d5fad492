// Messages of the BatchRemover widget: kernel <-> view (anywidget custom messages).
// Python twin: widget/protocol/batch.py. The batch view also sends the shared `hello` and
// `ack` and receives the shared `chunk` (common.ts, widget/protocol/common.py).
import type { AckMsg, AssetInfo, ChunkMsg, HelloMsg } from "./common";

// ---------------------------------------------------------------- kernel -> view
export interface BatchPlanMsg {
  type: "plan";
  view: string;
  model: AssetInfo;
  wasm: AssetInfo;
  /** Per image, what the kernel sends (null: the kernel could not read it). */
  images: (AssetInfo | null)[];
  /** Per image, why it could not be read ("" if it could). */
  errors: string[];
  send: string[];
  run: boolean;
  /** Workers asked for (0: the browser decides, see engine/worker-pool.ts). */
  workers: number;
  max_workers: number;
  timeout_s: number;
  thumb_side: number;
  /** WebAssembly threads per worker (cross-origin isolated pages only; else 1). */
  threads_per_worker?: number;
  /** Model input [height, width] (the kernel twin runs the same). */
  resolution?: [number, number];
}
export type BatchKernelMsg = BatchPlanMsg | ChunkMsg;

// ---------------------------------------------------------------- view -> kernel
export interface PoolMsg {
  type: "pool";
  view: string;
  workers: number;
  limit_reason: string;
}
export interface ImageStartMsg {
  type: "img_start";
  view: string;
  index: number;
  worker: number;
}
export interface ImageBeginMsg {
  type: "img_begin";
  view: string;
  index: number;
  worker: number;
  width: number;
  height: number;
  total: number;
  checksum: number;
  /** Milliseconds since the batch began (page clock). */
  start: number;
  end: number;
  timings: { decode: number; session_create: number; inference: number };
  threads: number;
}
export interface ImageChunkMsg {
  type: "img_chunk";
  view: string;
  index: number;
  seq: number;
  offset: number;
}
export interface ImageFailedMsg {
  type: "img_failed";
  view: string;
  index: number;
  stage: string;
  reason: string;
}
export type BatchViewMsg = PoolMsg | ImageStartMsg | ImageBeginMsg | ImageChunkMsg | ImageFailedMsg;
/** Everything a batch view sends. */
export type BatchOutgoingMsg = HelloMsg | AckMsg | BatchViewMsg;
