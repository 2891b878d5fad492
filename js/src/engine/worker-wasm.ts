// Engine worker entry for the wasm execution provider (ort.wasm bundle, plain SIMD wasm).
// Bundled separately and inlined into widget.js (and bench.js, batch.js), started from a Blob
// URL by worker-client.ts.
import * as ort from "onnxruntime-web/wasm";
import { startWorker } from "./worker-core";

startWorker(ort, "wasm");
