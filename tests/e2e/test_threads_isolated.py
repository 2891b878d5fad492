"""WebAssembly threads in a JupyterLab and a Notebook 7 started with ``threads on``'s config.

The server's private config dir gets what ``python -m widget threads on``
writes; then, in both front ends: the page is cross-origin isolated, the widget
runs min(cores, 4) > 1 threads with the kernel's exact mask (also with a
preview pass and another resolution), JupyterLab's own UI works (cells run, no
COEP errors in the console) and a Markdown image from a second local HTTP
origin (no CORS headers) still renders, as ``credentialless`` promises. The
tiny model keeps it fast; the default, non-isolated server is left alone.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page

from tests.e2e.conftest import _SERVER, NotebookFactory
from tests.e2e.test_engine_browser import tiny_cells
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook, Ui
from widget.testing.page_log import PageLog, WsMeter
from widget.testing.widgets import wait_result

COEP_ERRORS = (
    r"Cross-Origin-Embedder-Policy|ERR_BLOCKED_BY_RESPONSE"
    r"|NotSameOriginAfterDefaultedToSameOriginByCoep"
)


@pytest.fixture(scope="module")
def isolated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A JupyterLab server whose config is what ``threads on`` writes."""
    server = JupyterServer(tmp_path_factory.mktemp("jupyter-isolated"), isolated=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second local HTTP origin serving ``dot.png`` without any CORS/CORP header."""
    root = tmp_path_factory.mktemp("other-origin")
    Image.new("RGB", (40, 30), (10, 160, 40)).save(root / "dot.png")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _wait_batch(nb: Notebook, timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if nb.kernel_eval("b.done == b.total or bool(b.error)"):
            break
        time.sleep(0.5)
    return nb.kernel_eval(
        "{'backends': b.backends, 'layout': b.layout, 'error': b.error,"
        " 'cmp': [{'iou': c['iou']} for c in b.compare()]}"
    )


def _add_markdown(path: Path, text: str) -> None:
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": "md0", "metadata": {}, "source": text})
    path.write_text(json.dumps(nb, indent=1))


@pytest.mark.parametrize("ui", ["lab", "notebook"])
def test_isolated_page_runs_threads_with_the_kernels_mask(
    request: pytest.FixtureRequest,
    page: Page,
    page_log: PageLog,
    ws_meter: WsMeter,
    isolated_server: JupyterServer,
    other_origin: str,
    tmp_path: Path,
    ui: Ui,
) -> None:
    request.node.stash[_SERVER] = isolated_server
    cells = tiny_cells(tmp_path, ["w"])
    cells.append(
        "p = widget.BackgroundRemover(img, spec, backend='browser', resolution=128, preview=64)\np"
    )
    cells.append(
        "b = widget.BatchRemover([img, img[::2, ::2].copy()], spec, workers=1,"
        " threads_per_worker=2, resolution=96, backend='browser')\nb"
    )
    nb = Notebook(page, isolated_server, f"threads-{ui}.ipynb", page_log, ws_meter).write(cells)
    _add_markdown(nb.path, f"![dot]({other_origin}/dot.png)")
    nb.open(ui)
    assert page.evaluate("() => window.crossOriginIsolated") is True
    nb.run_all()
    cores = int(page.evaluate("() => navigator.hardwareConcurrency"))
    expected = min(cores, 4)
    assert expected > 1, "this test needs a machine with 2+ cores"
    for var in ("w", "p"):
        state = wait_result(nb, var, timeout_s=300)
        assert state["backend_used"] == "browser" and state["error"] == "", state
        info = nb.kernel_eval(
            f"{{'threads': {var}.threads, 'coi': {var}.cross_origin_isolated,"
            f" 'hint': {var}.threads_hint, 'cmp': {var}.compare(), 'timings': {var}.timings,"
            f" 'res': {var}.resolution, 'preview': {var}.preview_resolution}}"
        )
        assert info["coi"] is True and info["hint"] == "", info
        assert info["threads"] == expected, info
        assert info["cmp"]["pixels_match"] is True and info["cmp"]["iou"] == 1.0, info["cmp"]
        assert info["cmp"]["max_abs_diff"] <= 1 / 255, info["cmp"]
    assert info["res"] == [128, 128] and info["preview"] == 64, info
    assert 0 < info["timings"]["first_mask"] < info["timings"]["total"], info["timings"]
    assert page.locator(".pl-root[data-preview='64']").count() == 1  # the preview was drawn
    # a batch on one worker of 2 threads: same masks as the kernel, layout says so
    batch = _wait_batch(nb)
    assert batch["backends"] == ["browser", "browser"], batch
    assert batch["layout"].startswith(f"1 workers x {expected} threads"), batch
    assert all(c["iou"] == 1.0 for c in batch["cmp"]), batch["cmp"]
    # the Markdown image from the other origin rendered (credentialless lets it load)
    width = page.wait_for_function(
        f"() => {{ const i = [...document.querySelectorAll('img')]"
        f".find(x => x.src.startsWith({other_origin!r}));"
        " return i && i.complete && i.naturalWidth; }",
        timeout=60_000,
    ).json_value()
    assert width == 40
    assert page_log.matching(COEP_ERRORS) == [], page_log.matching(COEP_ERRORS)
    # the command's status sees this server send the headers
    env = dict(isolated_server.env())
    proc = subprocess.run(
        [sys.executable, "-m", "widget", "threads", "status"],
        env=env, capture_output=True, text=True, timeout=120, cwd=os.getcwd(),
    )  # fmt: skip
    assert proc.stdout.startswith("threads: on"), proc.stdout + proc.stderr
    assert f"{isolated_server.url}/: isolated, up to date" in proc.stdout, proc.stdout
    nb.screenshot(f"threads-isolated-{ui}")


def test_plain_page_keeps_one_thread_and_shows_the_hint(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(tiny_cells(tmp_path, ["w"]))
    nb.run_all()
    state = wait_result(nb)
    assert state["backend_used"] == "browser", state
    info = nb.kernel_eval(
        "{'t': w.threads, 'coi': w.cross_origin_isolated, 'hint': w.threads_hint}"
    )
    assert info["t"] == 1 and info["coi"] is False, info
    assert "python -m widget threads on" in info["hint"], info
    shown = nb.page.locator(".pl-hint").first
    assert shown.is_visible() and shown.inner_text() == info["hint"]
