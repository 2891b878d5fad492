// The worker bundle, inlined as a string by build.mjs.
declare module "virtual:worker-source" {
  const source: string;
  export default source;
}
// The WebGPU engine worker's bundle (worker-webgpu.ts), inlined the same way.
declare module "virtual:worker-webgpu-source" {
  const source: string;
  export default source;
}
