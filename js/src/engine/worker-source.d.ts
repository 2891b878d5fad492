// The wasm engine worker's bundle (worker-wasm.ts), inlined as a string by js/build.mjs.
declare module "virtual:worker-source" {
  const source: string;
  export default source;
}
// The WebGPU engine worker's bundle (worker-webgpu.ts), inlined the same way.
declare module "virtual:worker-webgpu-source" {
  const source: string;
  export default source;
}
