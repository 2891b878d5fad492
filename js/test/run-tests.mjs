// Compile the front end's node tests (test/*.test.ts) with esbuild into a temp dir and run them
// with `node --test`. The workers' sources, which js/build.mjs inlines as `virtual:*` modules,
// are empty strings here: node tests call the modules' functions, they start no worker.
import { build } from "esbuild";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(join(tmpdir(), "editor-tests-"));
const entries = readdirSync(here).filter((f) => f.endsWith(".test.ts")).map((f) => join(here, f));
const noWorkers = {
  name: "no-worker-sources",
  setup(b) {
    b.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path, namespace: "virtual" }));
    b.onLoad({ filter: /.*/, namespace: "virtual" }, () => ({ contents: 'export default "";', loader: "js" }));
  },
};
await build({ entryPoints: entries, bundle: true, platform: "node", format: "esm", target: "node20", outdir: out, outExtension: { ".js": ".mjs" }, logLevel: "warning", plugins: [noWorkers] });
const files = readdirSync(out).map((f) => join(out, f));
const res = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
rmSync(out, { recursive: true, force: true });
process.exit(res.status ?? 1);
