"""The GPU-aware variant in real JupyterLab + Chromium with a (SwiftShader) WebGPU adapter.

No precision asked, a model whose default is static int8: the widget sends the
float file instead, runs it on ``webgpu``, its twin runs the same file (the
masks match) and the traits say which variant ran and why. Speed cannot be
judged on SwiftShader; the tiny model keeps it short. No real GPU is needed.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.test_engine_webgpu import webgpu_page  # noqa: F401  (fixture)
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook
from widget.testing.page_log import PageLog, WsMeter
from widget.testing.widgets import wait_result


def test_default_int8_becomes_fp32_on_webgpu(
    webgpu_page: tuple[Page, PageLog, WsMeter],  # noqa: F811
    jupyter_server: JupyterServer,
    tmp_path: Path,
) -> None:
    page, log, meter = webgpu_page
    setup = (
        "import widget\n"
        "from segmentation.models.registry import Registry\n"
        "from tests.tinymodel import build_tiny_int8_static, build_tiny_model, red_square_rgba\n"
        f"_, fp32 = build_tiny_model({str(tmp_path)!r} + '/tiny-test.onnx')\n"
        f"_, int8 = build_tiny_int8_static({str(tmp_path)!r})\n"
        "reg = Registry([fp32, int8])\n"
        "img = red_square_rgba(300, 400)"
    )
    nb = Notebook(page, jupyter_server, "gpu-variant.ipynb", log, meter)
    nb.write(
        [
            setup,
            "w = widget.BackgroundRemover(img, 'tiny-test', backend='browser', registry=reg)\nw",
        ]
    ).open()
    nb.run_all(timeout_s=300)
    state = wait_result(nb, "w", timeout_s=300)
    assert state["backend_used"] == "browser", state
    info = nb.kernel_eval(
        "{'key': w.model_key, 'why': w.variant_reason, 'ep': w.execution_provider,"
        " 'gave_up': w.webgpu_fallback_reason, 'cmp': w.compare(), 'status': w.status}"
    )
    assert info["key"] == "tiny-test:fp32", info
    assert "on WebGPU instead of tiny-test:int8-static on wasm" in info["why"], info
    assert info["ep"] == "webgpu" and info["gave_up"] == "", (info, log.text()[-3000:])
    cmp = info["cmp"]
    assert cmp["pixels_match"] is True and cmp["iou"] >= 0.999, cmp
    assert cmp["max_abs_diff"] <= 3 / 255, cmp
