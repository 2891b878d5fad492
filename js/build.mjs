// Bundle the widget front end into ../widget/static (placeholder until the browser engine lands).
import { build } from "esbuild";
import { mkdirSync } from "node:fs";

mkdirSync("../widget/static", { recursive: true });
await build({
  entryPoints: ["src/widget.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  outfile: "../widget/static/widget.js",
});
