// Bundle the front end into ../widget/static:
//   widget.js  (anywidget ESM; the engine worker's bundle is inlined as a string)
//   widget.css
//   ort-wasm-simd-threaded.wasm (sent to the browser by the kernel, cached there by sha256)
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const out = "../widget/static";
const watch = process.argv.includes("--dev");
mkdirSync(out, { recursive: true });

const common = { bundle: true, format: "esm", target: "es2022", minify: !watch, legalComments: "none" };

const worker = await build({ ...common, entryPoints: ["src/worker.ts"], write: false });
const workerSource = worker.outputFiles[0].text;
// Widgets of one build share page-wide state (worker-client.ts) under this id.
const buildId = createHash("sha256").update(workerSource).digest("hex").slice(0, 12);
common.define = { __BUILD_ID__: JSON.stringify(buildId) };

const inlineWorker = {
  name: "inline-worker",
  setup(b) {
    b.onResolve({ filter: /^virtual:worker-source$/ }, (a) => ({ path: a.path, namespace: "worker-source" }));
    b.onLoad({ filter: /.*/, namespace: "worker-source" }, () => ({
      contents: `export default ${JSON.stringify(workerSource)};`,
      loader: "js",
    }));
  },
};

await build({ ...common, entryPoints: ["src/widget.ts"], outfile: `${out}/widget.js`, plugins: [inlineWorker] });
// bench.js: the benchmark page / in-tab benchmark widget (bench-page.ts), same inlined worker.
await build({ ...common, entryPoints: ["src/bench-page.ts"], outfile: `${out}/bench.js`, plugins: [inlineWorker] });
// batch.js: widget.BatchRemover (batch.ts), a page-wide pool of the same inlined worker.
await build({ ...common, entryPoints: ["src/batch.ts"], outfile: `${out}/batch.js`, plugins: [inlineWorker] });
await build({ entryPoints: ["src/widget.css"], bundle: true, minify: !watch, outfile: `${out}/widget.css` });

const require = createRequire(import.meta.url);
const ortDist = dirname(require.resolve("onnxruntime-web/wasm"));
copyFileSync(join(ortDist, "ort-wasm-simd-threaded.wasm"), `${out}/ort-wasm-simd-threaded.wasm`);
console.log(`built widget.js (worker ${(workerSource.length / 1024).toFixed(0)} KiB) into ${out}`);
