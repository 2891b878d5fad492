import type { PerfRecord } from "../engine/perf-store";

// Message shapes both kernel widgets speak (BackgroundRemover and BatchRemover; the in-tab
// benchmark's `chunk` and `ack` too): the view's `hello`, the kernel's asset `chunk` and the
// view's `ack` of it. Python twin: widget/protocol/common.py.
// Every message is a discriminated union on `type`, addressed by `view` (the view's random id);
// binary payloads travel as the custom message's buffers.

/** What the page and the worker can do, sent to the kernel in `hello`. */
export interface Capabilities {
  wasm: boolean;
  simd: boolean;
  threads: boolean;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** `navigator.deviceMemory` in GB (Chromium caps it at 8), null where the browser hides it. */
  deviceMemory?: number | null;
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
/** One chunk of an asset; its bytes are buffer 0. */
export interface ChunkMsg {
  type: "chunk";
  view: string;
  sha256: string;
  seq: number;
  total: number;
  offset: number;
}
/** Recycle the page's engine workers now (`recycle_engine()` in Python; engine/recycle.ts). */
export interface RecycleMsg {
  type: "recycle";
  view: string;
}

// ---------------------------------------------------------------- view -> kernel
export interface HelloMsg {
  type: "hello";
  view: string;
  have: string[];
  caps: Capabilities;
  /** Why this browser cannot run the model (null: it can). */
  blocker: string | null;
  /** sha256 of the model whose session the page's engine worker holds (null: none). */
  warm?: string | null;
  /** Times measured on earlier runs here, newest first (engine/perf-store.ts). */
  perf?: PerfRecord[];
}
export interface AckMsg {
  type: "ack";
  view: string;
  sha256: string;
  seq: number;
}
