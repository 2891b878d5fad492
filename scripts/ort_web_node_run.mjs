// Run one ONNX model once with onnxruntime-web (WASM, one thread) in Node on a raw float32
// [1, 3, 1024, 1024] input file; write the first output as raw float32 and print its time.
// Usage: node scripts/ort_web_node_run.mjs MODEL INPUT.f32 OUTPUT.f32
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(fileURLToPath(new URL("../js/package.json", import.meta.url)));
const ort = require("onnxruntime-web");
ort.env.wasm.numThreads = 1;
const [model, input, output] = process.argv.slice(2);
if (!output) throw new Error("usage: node ort_web_node_run.mjs MODEL INPUT.f32 OUTPUT.f32");
const session = await ort.InferenceSession.create(readFileSync(model));
const raw = readFileSync(input);
const x = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const t0 = performance.now();
const out = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x, [1, 3, 1024, 1024]) });
const ms = performance.now() - t0;
const y = out[session.outputNames[0]].data;
writeFileSync(output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
console.log(JSON.stringify({ output: session.outputNames[0], ms }));
