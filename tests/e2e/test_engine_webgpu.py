"""The webgpu execution provider in real JupyterLab + Chromium, on a real WebGPU adapter.

This machine has no GPU; Chromium with ``--enable-unsafe-webgpu`` exposes
SwiftShader's software Vulkan as an adapter, which is a real WebGPU device for
onnxruntime-web (slow, so the tiny model). The harness's default browser has no
such flag and keeps testing the wasm path. Checked here: a view with an adapter
gets the ``ort.webgpu`` runtime and the WebGPU graph, runs on ``webgpu`` and its
mask matches the kernel twin's; a probe that disagrees, or a graph the WebGPU
provider cannot run, makes the worker fall back to wasm and say why;
``execution_provider="wasm"`` never tries WebGPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import _LOG, _SERVER
from tests.e2e.test_engine_browser import tiny_cells
from widget.testing.chromium import CHROMIUM, CHROMIUM_ARGS
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook
from widget.testing.page_log import PageLog, WsMeter
from widget.testing.widgets import wait_result

WEBGPU_ARGS = [
    *(a for a in CHROMIUM_ARGS if a != "--disable-gpu"),
    "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader",
    "--enable-unsafe-swiftshader",
]
# A widget on a model of its own (another mean gives another wrapped graph, hence another
# session): a session that passed, or failed, its probe is reused for the same model.
WIDGET = (
    "{var} = widget.BackgroundRemover(img, replace(spec, mean=(0.5, 0.5, {mean})),"
    " backend='browser'{extra})\n{var}"
)
STATE = (
    "{{'ep': {v}.execution_provider, 'gave_up': {v}.webgpu_fallback_reason,"
    " 'sent': {v}.bytes_sent, 'assets': {v}.assets, 'status': {v}.status,"
    " 'caps': {v}.capabilities, 'cmp': {v}.compare()}}"
)


@pytest.fixture
def webgpu_page(
    request: pytest.FixtureRequest, chromium_browser: Browser, jupyter_server: JupyterServer
) -> Iterator[tuple[Page, PageLog, WsMeter]]:
    """A page in a Chromium of its own, started with a (SwiftShader) WebGPU adapter."""
    browser = chromium_browser.browser_type.launch(executable_path=str(CHROMIUM), args=WEBGPU_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(120_000)
    page = context.new_page()
    log, meter = PageLog().attach(page), WsMeter().attach(page)
    request.node.stash[_LOG] = log
    request.node.stash[_SERVER] = jupyter_server
    try:
        yield page, log, meter
    finally:
        jupyter_server.shutdown_kernels()
        browser.close()


CASES = [
    ("w", 0.5, ""),
    ("wp", 0.49, ""),
    ("wr", 0.48, ""),
    ("ww", 0.47, ", execution_provider='wasm'"),
]


def _widget(nb: Notebook, index: int) -> dict[str, Any]:
    var = CASES[index - 1][0]
    nb.run_cell(index)
    state = wait_result(nb, var, timeout_s=300)
    assert state["backend_used"] == "browser", state
    return nb.kernel_eval(STATE.format(v=var))


def _assert_matches_kernel(info: dict[str, Any]) -> None:
    cmp = info["cmp"]
    assert cmp["pixels_match"] is True, cmp
    assert cmp["iou"] >= 0.999 and cmp["mae"] <= 1 / 255 and cmp["max_abs_diff"] <= 3 / 255, cmp


def test_webgpu_runs_checks_and_falls_back(
    webgpu_page: tuple[Page, PageLog, WsMeter], jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    page, log, meter = webgpu_page
    nb = Notebook(page, jupyter_server, "webgpu.ipynb", log, meter)
    setup = tiny_cells(tmp_path, [])[0]
    widgets = [WIDGET.format(var=v, mean=m, extra=x) for v, m, x in CASES]
    nb.write(
        [
            f"{setup}\nfrom dataclasses import replace\nimport widget.engine.webgpu_plan as wg",
            *widgets,
        ]
    )
    nb.open()
    nb.run_cell(0)
    sizes = nb.kernel_eval(
        "{'gpu': widget.transfer.assets.wasm_asset('webgpu').size,"
        " 'wasm': widget.transfer.assets.wasm_asset().size}"
    )

    # 1. an adapter: WebGPU runtime and graph, webgpu EP, the kernel's mask
    gpu = _widget(nb, 1)
    assert gpu["caps"]["webgpu"] is True, gpu["caps"]
    assert gpu["ep"] == "webgpu", (gpu, log.text()[-3000:])
    assert gpu["gave_up"] == ""
    assert gpu["sent"]["wasm"] == sizes["gpu"] > sizes["wasm"]
    assert "(webgpu," in gpu["status"]
    _assert_matches_kernel(gpu)

    # 2. a probe reference the WebGPU mask cannot match: wasm, with the parity failure
    nb.execute("_ref = wg.probe_reference\nwg.probe_reference = lambda s, r: 255 - _ref(s, r)")
    bad = _widget(nb, 2)
    nb.execute("wg.probe_reference = _ref")
    assert bad["ep"] == "wasm", bad
    assert bad["gave_up"].startswith("webgpu: parity check failed: IoU"), bad["gave_up"]
    assert "WebGPU fell back: webgpu: parity check failed" in bad["status"]
    assert bad["sent"]["wasm"] == 0  # the ort.webgpu runtime is cached; it also runs wasm
    _assert_matches_kernel(bad)

    # 3. a graph the WebGPU provider cannot run (the antialiased Resize): wasm, with its error
    nb.execute(
        "_path = wg.webgpu_model_path\n"
        "wg.webgpu_model_path = widget.engine.kernel_twin.twin_model_path"
    )
    raw = _widget(nb, 3)
    nb.execute("wg.webgpu_model_path = _path")
    assert raw["ep"] == "wasm", raw
    assert "antialias" in raw["gave_up"], raw["gave_up"]
    _assert_matches_kernel(raw)

    # 4. execution_provider="wasm": the plain runtime, no WebGPU attempt
    plain = _widget(nb, 4)
    assert plain["ep"] == "wasm" and plain["gave_up"] == "", plain
    assert plain["sent"]["wasm"] == sizes["wasm"]
    assert plain["assets"]["wasm"] != gpu["assets"]["wasm"]
    _assert_matches_kernel(plain)
    nb.screenshot("engine-webgpu")
