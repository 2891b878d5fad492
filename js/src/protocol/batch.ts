// Messages of the BatchRemover widget: kernel <-> view (anywidget custom messages).
// Python twin: widget/protocol/batch.py. The batch view also sends the shared `hello` and
// `ack` and receives the shared `chunk` (common.ts, widget/protocol/common.py).
import type { AckMsg, AssetInfo, ChunkMsg, HelloMsg, RecycleMsg } from "./common";

// ---------------------------------------------------------------- kernel -> view
export interface BatchPlanMsg {
  type: "plan";
  view: string;
  model: AssetInfo;
  wasm: AssetInfo;
  /** Per image, why it could not be read ("" if it could): one entry per image. The readable
   * ones are streamed after the `pool` message, a few at a time (`img_asset` + chunks). */
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
  /** Images the kernel took from the batch's queue so far (backend "auto"): the view shows them
   * as the kernel's and does not wait for them. */
  kernel?: number[];
  /** The model is the graph the kernel's onnxruntime optimised and saved: the wasm session
   * loads it without optimising it again (about a third of IS-Net's session creation). */
  graph_optimized?: boolean;
}
/** Image `index` comes next: its chunks are addressed by `key` (not its sha256, so that two
 * identical images are two transfers); `info` describes the image itself. The view releases
 * the bytes once the image ran (or failed); the kernel then sends the next one. */
export interface ImageAssetMsg {
  type: "img_asset";
  view: string;
  index: number;
  key: string;
  info: AssetInfo;
}
/** Image `index` could not be read again: it will not come (its error is in the kernel). */
export interface ImageSkipMsg {
  type: "img_skip";
  view: string;
  index: number;
  error: string;
}
export type BatchKernelMsg = BatchPlanMsg | ChunkMsg | ImageAssetMsg | ImageSkipMsg | RecycleMsg;

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
