// Engine worker entry for the webgpu execution provider (ort.webgpu bundle, whose wasm is
// ort-wasm-simd-threaded.asyncify.wasm). Started only when the kernel planned WebGPU; the same
// bundle also runs the wasm (CPU) provider, which is the fallback when WebGPU fails its checks.
import * as ort from "onnxruntime-web/webgpu";
import { startWorker } from "./worker-core";

startWorker(ort, "webgpu");
