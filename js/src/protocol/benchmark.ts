// Messages of the in-tab benchmark widget: kernel <-> view (anywidget custom messages).
// Python twin: widget/benchmark.py (BrowserBenchmark._dispatch). The kernel sends assets in
// the shared acknowledged chunks (`chunk` and `ack`, common.ts / widget/protocol/common.py).
import type { AckMsg, ChunkMsg } from "./common";

/** An asset the benchmark sends: identified by its sha256 (hex). */
export interface BenchAssetInfo {
  sha256: string;
  size: number;
  name: string;
  mime?: string;
  width?: number;
  height?: number;
}

// ---------------------------------------------------------------- kernel -> view
export interface BenchPlanMsg {
  type: "bench_plan";
  view: string;
  wasm: BenchAssetInfo;
  models: BenchAssetInfo[];
  images: BenchAssetInfo[];
  /** sha256s the kernel sends right away (wasm unless cached, and the images). */
  send: string[];
  repeats: number;
  threads: number;
  cache: boolean;
}
export type BenchKernelMsg = BenchPlanMsg | ChunkMsg;

// ---------------------------------------------------------------- view -> kernel
export interface BenchHelloMsg {
  type: "bench_hello";
  view: string;
  /** sha256s the page's IndexedDB asset cache holds. */
  have: string[];
  threads: number;
}
/** Send model `sha256` now (the view did not find it cached). */
export interface BenchNeedMsg {
  type: "bench_need";
  view: string;
  sha256: string;
}
/** One (model, image) run; the mask, deflated (zlib), is buffer 0 unless it was too big. */
export interface BenchResultMsg {
  type: "bench_result";
  view: string;
  model: string;
  image: string;
  session_create: number;
  inference: number[];
  decode: number;
  width: number;
  height: number;
  checksum: number;
  stable: boolean;
  threads: number;
  execution_provider: string;
}
export interface BenchFailedMsg {
  type: "bench_failed";
  view: string;
  /** The model's sha256 ("" when the plan itself failed). */
  model: string;
  stage: string;
  reason: string;
}
export interface BenchDoneMsg {
  type: "bench_done";
  view: string;
}
export type BenchViewMsg = BenchHelloMsg | BenchNeedMsg | BenchResultMsg | BenchFailedMsg | BenchDoneMsg | AckMsg;
