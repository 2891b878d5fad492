// Messages of the BackgroundRemover widget: kernel <-> view (anywidget custom messages).
// Python twin: widget/protocol/remover.py. The shapes it shares with the batch widget
// (hello, chunk, ack, AssetInfo, Capabilities) are in common.ts (widget/protocol/common.py).
import type { AckMsg, AssetInfo, ChunkMsg, HelloMsg, RecycleMsg } from "./common";

// ---------------------------------------------------------------- kernel -> view
export interface PlanMsg {
  type: "plan";
  view: string;
  model: AssetInfo;
  wasm: AssetInfo;
  image: AssetInfo;
  /** sha256s the kernel is about to send (the view lacked them). */
  send: string[];
  /** false: the kernel runs the model itself (backend="kernel"). */
  run: boolean;
  timeout_s: number;
  chunk_size: number;
  /** Execution provider to try: "webgpu" only when the view reported an adapter; the `wasm`
   * asset is then the ort.webgpu runtime and the model the WebGPU variant of the graph. */
  ep?: "wasm" | "webgpu";
  /** With ep "webgpu": the parity probe; its pixels and expected mask are buffers 0 and 1. */
  probe?: { width: number; height: number; min_iou: number; max_mae: number };
  /** Model input [height, width] of the full mask (the kernel twin runs the same). */
  resolution?: [number, number];
  /** [height, width] of a first low-resolution pass drawn before the full mask; null: none. */
  preview?: [number, number] | null;
  /** backend "auto": the kernel may answer first (its `result` can come while this view runs);
   * this view's own mask then checks it. */
  hybrid?: boolean;
  /** Seconds after which, with no full mask drawn, the view says `late` (null: never). */
  patience_s?: number | null;
  /** The kernel answers first: this view loads the session meanwhile but starts its own run
   * only once the kernel's `result` arrived (or after this many seconds), so the two runs
   * never share the cores while a user waits for the first cut-out. Absent: no wait. */
  after_kernel_s?: number;
  /** The model is the graph the kernel's onnxruntime optimised and saved: the wasm session
   * loads it without optimising it again (about a third of IS-Net's session creation). */
  graph_optimized?: boolean;
}
export interface ResultMsg {
  type: "result";
  view: string;
  width: number;
  height: number;
  seq: number;
  total: number;
  offset: number;
  size: number;
  source: "browser" | "kernel";
}
export type KernelMsg = PlanMsg | ChunkMsg | ResultMsg | RecycleMsg;

// ---------------------------------------------------------------- view -> kernel
export interface Timings {
  transfer: number;
  session_create: number;
  inference: number;
  total: number;
  decode: number;
  /** With a preview pass: ms from the job's start to the preview drawn, and its inference. */
  first_mask?: number;
  preview_inference?: number;
  /** With `after_kernel_s`: ms the view's own run waited for the kernel's mask. */
  kernel_wait?: number;
}
export interface StageMsg {
  type: "stage";
  view: string;
  stage: "caching" | "loading" | "running" | "preview";
  execution_provider?: string;
  threads?: number;
  /** Why WebGPU was given up for the wasm EP (absent: it was not). */
  fallback?: string;
}
export interface MaskBeginMsg {
  type: "mask_begin";
  view: string;
  width: number;
  height: number;
  total: number;
  checksum: number;
  timings: Timings;
  execution_provider: string;
  threads: number;
}
export interface MaskChunkMsg {
  type: "mask_chunk";
  view: string;
  seq: number;
  offset: number;
}
/** The patience ran out before this view's full mask: the kernel is to answer now. */
export interface LateMsg {
  type: "late";
  view: string;
}
export interface FailedMsg {
  type: "failed";
  view: string;
  stage: string;
  reason: string;
}
export type ViewMsg = HelloMsg | AckMsg | StageMsg | MaskBeginMsg | MaskChunkMsg | LateMsg | FailedMsg;
