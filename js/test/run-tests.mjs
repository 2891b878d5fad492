// Compile the editor's node tests with esbuild into a temp dir and run them with `node --test`.
import { build } from "esbuild";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(join(tmpdir(), "editor-tests-"));
const entries = readdirSync(here).filter((f) => f.endsWith(".test.ts")).map((f) => join(here, f));
await build({ entryPoints: entries, bundle: true, platform: "node", format: "esm", target: "node20", outdir: out, outExtension: { ".js": ".mjs" }, logLevel: "warning" });
const files = readdirSync(out).map((f) => join(out, f));
const res = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
rmSync(out, { recursive: true, force: true });
process.exit(res.status ?? 1);
