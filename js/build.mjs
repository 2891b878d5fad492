// Bundle the front end into ../widget/static:
//   loader.js  (the `_esm` of every widget, src/shared/bundle-loader.ts: imports the widget's
//     bundle below, sent in its `_bundle` trait, once per page)
//   widget.js  (anywidget ESM of widget.BackgroundRemover, src/remover/widget.ts; the engine
//     workers' bundles, src/engine/worker-wasm.ts and worker-webgpu.ts, are inlined as strings)
//   bench.js, batch.js (the benchmark and widget.BatchRemover, inlining the same workers)
//   widget.css (src/shared/widget.css)
//   ort-wasm-simd-threaded.wasm (sent to the browser by the kernel, cached there by sha256)
//   ort-wasm-simd-threaded.asyncify.wasm (the ort.webgpu bundle's runtime: sent the same way,
//     only to views that will run the webgpu execution provider)
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const out = "../widget/static";
const watch = process.argv.includes("--dev");
mkdirSync(out, { recursive: true });

const common = { bundle: true, format: "esm", target: "es2022", minify: !watch, legalComments: "none" };

const bundleText = async (entry) =>
  (await build({ ...common, entryPoints: [entry], write: false })).outputFiles[0].text;
const sources = {
  "virtual:worker-source": await bundleText("src/engine/worker-wasm.ts"),
  "virtual:worker-webgpu-source": await bundleText("src/engine/worker-webgpu.ts"),
  "virtual:editor-worker-source": await bundleText("src/editor/ops-worker.ts"),
};
// Widgets of one build share page-wide state (src/engine/page-worker.ts, ...) under this id.
const buildId = createHash("sha256").update(Object.values(sources).join("\n")).digest("hex").slice(0, 12);
common.define = { __BUILD_ID__: JSON.stringify(buildId) };

const inlineWorker = {
  name: "inline-worker",
  setup(b) {
    b.onResolve({ filter: /^virtual:(worker|worker-webgpu|editor-worker)-source$/ }, (a) => ({ path: a.path, namespace: "worker-source" }));
    b.onLoad({ filter: /.*/, namespace: "worker-source" }, (a) => ({
      contents: `export default ${JSON.stringify(sources[a.path])};`,
      loader: "js",
    }));
  },
};

// widget.js: widget.BackgroundRemover (remover/widget.ts).
await build({ ...common, entryPoints: ["src/remover/widget.ts"], outfile: `${out}/widget.js`, plugins: [inlineWorker] });
// bench.js: the benchmark page / in-tab benchmark widget (bench/entry.ts), same inlined worker.
await build({ ...common, entryPoints: ["src/bench/entry.ts"], outfile: `${out}/bench.js`, plugins: [inlineWorker] });
// batch.js: widget.BatchRemover (batch/widget.ts), a page-wide pool of the same inlined worker.
await build({ ...common, entryPoints: ["src/batch/widget.ts"], outfile: `${out}/batch.js`, plugins: [inlineWorker] });
await build({ ...common, entryPoints: ["src/shared/bundle-loader.ts"], outfile: `${out}/loader.js` });
await build({ entryPoints: ["src/shared/widget.css"], bundle: true, minify: !watch, outfile: `${out}/widget.css` });

const require = createRequire(import.meta.url);
const ortDist = dirname(require.resolve("onnxruntime-web/wasm"));
for (const name of ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.asyncify.wasm"]) {
  copyFileSync(join(ortDist, name), `${out}/${name}`);
}
const kib = (name) => (sources[name].length / 1024).toFixed(0);
console.log(`built widget.js (workers: wasm ${kib("virtual:worker-source")} KiB, webgpu ${kib("virtual:worker-webgpu-source")} KiB) into ${out}`);
