"""Time a model on onnxruntime-web's webgpu and wasm providers in headless Chromium.

Chromium runs with a WebGPU adapter (``--enable-unsafe-webgpu``; on a machine
without a GPU that is SwiftShader, a software Vulkan). Each configuration gets
a fresh page that loads the ORT bundle, creates a session on the provider from
the wrapped model (the WebGPU graph variant for ``webgpu``) and runs one image;
the mask is compared with the kernel twin's. Prints a table.

    .venv/bin/python scripts/bench_webgpu.py                     # ISNet fp16 + fp32
    .venv/bin/python scripts/bench_webgpu.py --precision fp32 --side 1024 --eps webgpu
"""

from __future__ import annotations

import argparse
import base64
import functools
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image
from playwright.sync_api import sync_playwright

from segmentation.models.registry import default_registry
from widget.engine.kernel_twin import compare_masks, run_twin, twin_model_path
from widget.engine.webgpu_plan import webgpu_model_path

ORT_DIST = Path(__file__).resolve().parents[1] / "js/node_modules/onnxruntime-web/dist"
BUNDLES = {
    "webgpu": ("ort.webgpu.bundle.min.mjs", "ort-wasm-simd-threaded.asyncify.wasm"),
    "wasm": ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"),
}
ARGS = [
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader",
    "--enable-unsafe-swiftshader",
]
RUN = """async ([bundle, wasm, model, ep, w, h, limitS]) => {
  const limit = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`timed out after ${limitS} s`)), limitS * 1000));
  return Promise.race([limit, measure(bundle, wasm, model, ep, w, h)]);
}"""
MEASURE = """async function measure(bundle, wasm, model, ep, w, h) {
  const ort = await import(`/${bundle}`);
  ort.env.wasm.wasmBinary = await (await fetch(`/${wasm}`)).arrayBuffer();
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch(`/${model}`)).arrayBuffer());
  const pixels = new Uint8Array(await (await fetch('/pixels.raw')).arrayBuffer());
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
  const t1 = performance.now();
  console.log(`  ${ep}: session created in ${((t1 - t0) / 1000).toFixed(1)} s, running...`);
  const out = await s.run({ pixels: new ort.Tensor('uint8', pixels, [h, w, 4]) });
  const t2 = performance.now();
  const mask = out.mask.data;
  let bin = '';
  for (let i = 0; i < mask.length; i += 8192) {
    bin += String.fromCharCode(...mask.subarray(i, i + 8192));
  }
  return { create: t1 - t0, run: t2 - t1, mask: btoa(bin),
           f16: adapter ? adapter.features.has('shader-f16') : null };
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def _serve(root: Path) -> ThreadingHTTPServer:
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    """Run the configurations and print one row each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="isnet-general-use")
    ap.add_argument("--precision", nargs="+", default=["fp16", "fp32"])
    ap.add_argument("--eps", nargs="+", default=["webgpu", "wasm"], choices=sorted(BUNDLES))
    ap.add_argument("--side", type=int, default=1024, help="image size (square)")
    ap.add_argument("--limit-s", type=float, default=900, help="give up a configuration after")
    args = ap.parse_args()
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    rgba = np.array(photo.convert("RGBA").resize((args.side, args.side)))
    registry = default_registry()
    print(f"{'model':28} {'ep':7} {'create s':>9} {'run s':>8} {'IoU':>7} {'MAE':>8}  note")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        (root / "pixels.raw").write_bytes(rgba.tobytes())
        (root / "index.html").write_text("<!doctype html><title>bench</title>")
        for name in {f for pair in BUNDLES.values() for f in pair}:
            (root / name).symlink_to(ORT_DIST / name)
        server = _serve(root)
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            for precision in args.precision:
                spec = registry.get(args.model, precision)
                twin = run_twin(spec, registry, rgba)[0]
                for ep in args.eps:
                    path = webgpu_model_path(spec, registry) if ep == "webgpu" else None
                    path = path or twin_model_path(spec, registry)
                    link = root / f"{spec.key.replace(':', '-')}-{ep}.onnx"
                    link.unlink(missing_ok=True)
                    link.symlink_to(path)
                    page = browser.new_page()
                    page.set_default_timeout(1_200_000)
                    page.on("console", lambda m: print(m.text, flush=True))
                    page.goto(url)
                    page.add_script_tag(content=MEASURE)
                    t0 = time.perf_counter()
                    try:
                        cfg = [*BUNDLES[ep], link.name, ep, args.side, args.side, args.limit_s]
                        r = page.evaluate(RUN, cfg)
                    except Exception as exc:  # report the failure as a row
                        why = str(exc).splitlines()[0][:200]
                        print(f"{spec.key:28} {ep:7} failed: {why}", flush=True)
                        page.close()
                        continue
                    mask = np.frombuffer(base64.b64decode(r["mask"]), np.uint8)
                    cmp = compare_masks(mask.reshape(twin.shape), twin)
                    note = f"shader-f16={r['f16']}, wall {time.perf_counter() - t0:.0f} s"
                    print(
                        f"{spec.key:28} {ep:7} {r['create'] / 1000:9.1f} {r['run'] / 1000:8.1f}"
                        f" {cmp['iou']:7.4f} {cmp['mae']:8.5f}  {note}",
                        flush=True,
                    )
                    page.close()
        finally:
            browser.close()
            server.shutdown()


if __name__ == "__main__":
    main()
