"""Count where onnxruntime-web's WebGPU provider places each node of a catalog model.

Creates (does not run) a WebGPU session in headless Chromium (SwiftShader
adapter, as :mod:`scripts.bench_webgpu`) from the model's WebGPU graph with
verbose logging, and prints the op types placed on each execution provider.
This is how the default static int8 model was found to run its QuantizeLinear
nodes on the CPU.

    .venv/bin/python scripts/webgpu_placement.py [--precision int8-static]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright

from scripts.bench_webgpu import ARGS, BUNDLES, ORT_DIST, _serve
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL
from widget.engine.webgpu_plan import webgpu_model_path

CREATE = """async ([bundle, wasm, model]) => {
  const ort = await import(`/${bundle}`);
  ort.env.wasm.wasmBinary = await (await fetch(`/${wasm}`)).arrayBuffer();
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch(`/${model}`)).arrayBuffer());
  await ort.InferenceSession.create(bytes, {
    executionProviders: ['webgpu'], logSeverityLevel: 0, logVerbosityLevel: 0 });
}"""
PLACED = re.compile(r"Node\(s\) placed on \[(\w+)\]")
NODE = re.compile(r"VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(")


def placement(lines: list[str]) -> dict[str, Counter[str]]:
    """Op-type counts per provider from ORT's verbose ``VerifyEachNodeIsAssignedToAnEp`` log."""
    out: dict[str, Counter[str]] = {}
    current: Counter[str] | None = None
    for line in lines:
        if m := PLACED.search(line):
            current = out.setdefault(m.group(1), Counter())
        elif current is not None and (m := NODE.search(line)):
            current[m.group(1)] += 1
    return out


def main() -> None:
    """Create the session, print the placement table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--precision", default=None, help="default: the catalog's default")
    args = ap.parse_args()
    registry = default_registry()
    spec = registry.get(args.model, args.precision)
    path = webgpu_model_path(spec, registry)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        (root / "index.html").write_text("<!doctype html><title>placement</title>")
        for name in BUNDLES["webgpu"]:
            (root / name).symlink_to(ORT_DIST / name)
        (root / "model.onnx").symlink_to(path)
        server = _serve(root)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(600_000)
            page.on("console", lambda m: lines.append(m.text))
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            page.evaluate(CREATE, [*BUNDLES["webgpu"], "model.onnx"])
        finally:
            browser.close()
            server.shutdown()
    print(f"{spec.key} ({path.name}) on WebGPU:")
    for provider, ops in placement(lines).items():
        top = ", ".join(f"{op} {n}" for op, n in ops.most_common())
        print(f"  {provider}: {sum(ops.values())} nodes ({top})")


if __name__ == "__main__":
    main()
