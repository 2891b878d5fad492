// Message shapes: kernel <-> view (anywidget custom messages) and view <-> worker.
// Every message is a discriminated union on `type`; binary payloads travel as buffers
// (kernel <-> view) or as transferred ArrayBuffers (view <-> worker).

import type { ProbeSpec } from "./parity";

/** What the page and the worker can do, sent to the kernel in `hello`. */
export interface Capabilities {
  wasm: boolean;
  simd: boolean;
  threads: boolean;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  webgpu: boolean;
  webgpuAdapter: string | null;
  /** The adapter offers "shader-f16" (float16 arithmetic in shaders). */
  webgpuF16: boolean;
  worker: boolean;
  indexedDB: boolean;
  subtleCrypto: boolean;
  offscreenCanvas: boolean;
  userAgent: string;
}

/** An asset the kernel can send: identified by its sha256 (hex). */
export interface AssetInfo {
  sha256: string;
  size: number;
  kind: "model" | "wasm" | "image";
  name: string;
  mime?: string;
  width?: number;
  height?: number;
}

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
}
export interface ChunkMsg {
  type: "chunk";
  view: string;
  sha256: string;
  seq: number;
  total: number;
  offset: number;
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
export type KernelMsg = PlanMsg | ChunkMsg | ResultMsg;

// ---------------------------------------------------------------- view -> kernel
export interface Timings {
  transfer: number;
  session_create: number;
  inference: number;
  total: number;
  decode: number;
}
export interface HelloMsg {
  type: "hello";
  view: string;
  have: string[];
  caps: Capabilities;
  /** Why this browser cannot run the model (null: it can). */
  blocker: string | null;
}
export interface AckMsg {
  type: "ack";
  view: string;
  sha256: string;
  seq: number;
}
export interface StageMsg {
  type: "stage";
  view: string;
  stage: "caching" | "loading" | "running";
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
export interface FailedMsg {
  type: "failed";
  view: string;
  stage: string;
  reason: string;
}
export type ViewMsg = HelloMsg | AckMsg | StageMsg | MaskBeginMsg | MaskChunkMsg | FailedMsg;

// ---------------------------------------------------------------- view <-> worker
export type WorkerRequest =
  | { type: "probe" }
  | { type: "have"; shas: string[] | null }
  | {
      type: "put";
      sha256: string;
      seq: number;
      total: number;
      size: number;
      offset: number;
      cache: boolean;
      /** Where the complete asset is kept in memory (default: its sha256); images use a
       * per-view slot so two views never consume each other's image. */
      slot?: string;
      data: ArrayBuffer;
    }
  | { type: "load"; model: string; wasm: string; threads: number; ep?: "wasm" | "webgpu"; probe?: ProbeSpec }
  | { type: "decode"; image: string; mime: string; width: number; height: number; maxSide: number }
  | { type: "run"; model: string; image: string }
  | { type: "release" };

export interface WorkerReplies {
  probe: Capabilities;
  have: { have: string[] };
  put: { complete: boolean; verified: boolean | null; cached: boolean };
  load: {
    session_create: number;
    reused: boolean;
    execution_provider: string;
    threads: number;
    /** Why WebGPU was given up for the wasm EP (null or absent: it was not). */
    fallback?: string | null;
  };
  decode: { width: number; height: number; checksum: number; ms: number; preview: ImageBitmap };
  run: {
    mask: ArrayBuffer;
    width: number;
    height: number;
    inference: number;
    execution_provider?: string;
    fallback?: string | null;
  };
  release: { released: boolean };
}

export type WorkerRequestType = WorkerRequest["type"];
export type RequestOf<T extends WorkerRequestType> = Extract<WorkerRequest, { type: T }>;

/** Envelope the client sends; `id` pairs the reply. */
export interface WorkerEnvelope {
  id: number;
  req: WorkerRequest;
}
/** Envelope the worker answers with: either `result` or `error`. */
export type WorkerAnswer =
  | { id: number; result: WorkerReplies[WorkerRequestType] }
  | { id: number; error: string };
