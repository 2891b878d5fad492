"""Bounded memory in real JupyterLab + Chromium: streamed batches, recycled workers, close().

- A ``BatchRemover`` with an output folder streams its images (never more in flight than
  the pool size + 1), writes every mask and keeps none in the kernel.
- The page's engine worker recycles itself after idling (``__pixelLiberationRecycleMs``
  shortens the delay for the test) and when ``recycle_engine()`` asks; the next run starts
  a fresh worker that re-creates the session from the IndexedDB cache, so the model does
  not cross the websocket again.
- ``close()`` removes the views and releases the kernel's image and masks.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import NotebookFactory
from widget.testing.notebook import Notebook
from widget.testing.widgets import wait_done, wait_result

#: Whether the page's shared wasm engine worker is running (false: none, or terminated).
PAGE_WORKER_ALIVE = """() => Object.keys(globalThis)
  .filter((k) => k.startsWith('__pixel_liberation_engine_'))
  .some((k) => { const w = globalThis[k].worker; return !!(w && w.alive); })"""


def wait_worker_gone(nb: Notebook, timeout_s: float = 60) -> None:
    """Wait until the page has no running engine worker."""
    deadline = time.monotonic() + timeout_s
    while nb.page.evaluate(PAGE_WORKER_ALIVE):
        if time.monotonic() > deadline:
            raise AssertionError(f"the page's engine worker is still running after {timeout_s} s")
        time.sleep(0.25)


def test_batch_streams_images_and_writes_masks(notebook: NotebookFactory, tmp_path: Path) -> None:
    out = tmp_path / "masks"
    setup = (
        "import widget\n"
        "from matplotlib import cbook\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp_path)!r})\n"
        "imgs = [red_square_rgba(300 + 10 * i, 400 - 8 * i, 40 + 4 * i) for i in range(8)]\n"
        "imgs.append(str(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)))"
    )
    nb = notebook(
        [setup, f"b = widget.BatchRemover(imgs, spec, backend='browser', out_dir={str(out)!r})\nb"]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    assert wait_done(nb, "b")["error"] == ""
    info = nb.kernel_eval(
        "{'backends': b.backends, 'errors': b.errors, 'workers': b.workers,"
        " 'peak': b._stream.peak, 'queued': b._stream.queued,"
        " 'kept': sum(r.browser is not None or r.kernel is not None for r in b._results.records),"
        " 'paths': [str(p) for p in b.mask_paths]}"
    )
    assert info["backends"] == ["browser"] * 9 and info["errors"] == [""] * 9, info
    # a window of the pool's size + 1 images in flight, never the whole batch
    assert 1 <= info["peak"] <= info["workers"] + 1 < 9, info
    assert info["queued"] == 0 and info["kept"] == 0, info
    assert sorted(p.name for p in out.iterdir()) == [Path(p).name for p in info["paths"]]
    for i, cmp in enumerate(nb.kernel_eval("b.compare()")):
        assert cmp["pixels_match"] is True and cmp["iou"] == 1.0, (i, cmp)
    nb.page.wait_for_function(
        "() => document.querySelector('.pl-batch')?.dataset.drawn === '9'", timeout=30_000
    )


def test_worker_recycles_when_idle_and_when_asked_and_close_releases(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    setup = (
        "import widget\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp_path)!r})\n"
        "img = red_square_rgba(480, 640, margin=100)"
    )
    nb = notebook([setup, "w = widget.BackgroundRemover(img, spec, backend='browser')\nw"])
    nb.run_cell(0)
    nb.page.evaluate("() => { globalThis.__pixelLiberationRecycleMs = 3000; }")
    nb.run_cell(1)
    assert wait_result(nb)["backend_used"] == "browser"
    first = nb.kernel_eval("{'t': w.timings, 'sent': w.bytes_sent}")
    assert first["t"]["session_create"] > 0 and first["sent"]["model"] > 0, first
    wait_worker_gone(nb)  # idle for 3 s: recycled, its WASM memory returned

    nb.page.evaluate("() => { globalThis.__pixelLiberationRecycleMs = 0; }")  # never, from now
    nb.run_cell(1)
    assert wait_result(nb)["backend_used"] == "browser"
    again = nb.kernel_eval("{'t': w.timings, 'sent': w.bytes_sent}")
    # a fresh worker created the session again, from the browser's cache: no model bytes sent
    assert again["t"]["session_create"] > 0 and again["sent"]["model"] == 0, again
    time.sleep(1.0)
    assert nb.page.evaluate(PAGE_WORKER_ALIVE), "a worker that never idles out was recycled"

    assert nb.kernel_eval("w.recycle_engine()") == 1  # one view was asked
    wait_worker_gone(nb)

    assert nb.page.locator(".pl-root").count() == 1
    nb.execute("w.close()")
    nb.page.wait_for_function("() => document.querySelectorAll('.pl-root').length === 0")
    state = nb.kernel_eval(
        "{'closed': w.closed, 'encoded': w._encoded is None, 'browser': w._run.browser is None}"
    )
    assert state == {"closed": True, "encoded": True, "browser": True}, state
    res = nb.execute("try:\n    w.mask\nexcept RuntimeError as e:\n    print('error:', e)")
    assert "error: this BackgroundRemover was closed" in res.stdout, res
