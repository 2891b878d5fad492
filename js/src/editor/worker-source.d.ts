// The editor worker's bundle (ops-worker.ts), inlined as a string by js/build.mjs (and by
// widget/testing/pages.py for the standalone test page).
declare module "virtual:editor-worker-source" {
  const source: string;
  export default source;
}
