// The worker bundle, inlined as a string by build.mjs.
declare module "virtual:worker-source" {
  const source: string;
  export default source;
}
