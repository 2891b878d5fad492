"""``widget.BatchRemover`` in real JupyterLab + Chromium: a batch spreads over the worker pool.

JupyterLab is not cross-origin isolated, so each onnxruntime-web session has one
thread; the batch must keep several single-threaded workers busy at the same time.
The tiny model keeps it fast; images are large enough that resizing inside the
graph and decoding take real time in each worker.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import NotebookFactory
from widget.batch.results import overlapping_workers
from widget.testing.widgets import wait_done

N_GOOD = 6
BAD = 2  # index of the unreadable image


def batch_cells(tmp: Path) -> list[str]:
    setup = (
        "import os, widget\n"
        "from matplotlib import cbook\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp)!r})\n"
        "imgs = [red_square_rgba(480 + 20 * i, 640 - 16 * i, 60 + 8 * i) for i in range(5)]\n"
        "imgs.append(str(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)))\n"
        f"imgs.insert({BAD}, b'this is not an image')\n"
        "cores = os.cpu_count()\n"
        "from segmentation.images import load_image\n"
        f"sizes = [None if i == {BAD} else list(load_image(x).pixels.shape[:2])"
        " for i, x in enumerate(imgs)]"
    )
    return [
        setup,
        "b = widget.BatchRemover(imgs, spec, backend='browser')\nb",
        "b2 = widget.BatchRemover(imgs[:2], spec, backend='browser')\nb2",
    ]


def test_batch_uses_several_workers_and_matches_kernel(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(batch_cells(tmp_path))
    nb.run_cell(0)
    nb.run_cell(1)
    state = wait_done(nb, "b")
    assert state["error"] == "", state
    info = nb.kernel_eval(
        "{'workers': b.workers, 'cores': cores, 'timings': b.timings, 'errors': b.errors,"
        " 'backends': b.backends, 'status': b.status,"
        " 'shapes': [None if m is None else list(m.shape) for m in b.masks],"
        " 'sizes': sizes}"
    )
    assert info["cores"] >= 2, "this test needs a machine with at least 2 cores"
    assert info["workers"] >= 2, info["workers"]
    timings = info["timings"]
    assert timings["workers_used"] >= 2, timings
    assert overlapping_workers(timings["images"]) >= 2, timings["images"]

    # the unreadable image has a clear error; the others all came from the browser
    errors = info["errors"]
    assert f"image {BAD}" in errors[BAD] and "<bytes>" in errors[BAD], errors[BAD]
    assert [i for i, e in enumerate(errors) if e] == [BAD]
    assert info["backends"][BAD] == ""
    assert [i for i, b in enumerate(info["backends"]) if b == "browser"] == [
        i for i in range(N_GOOD + 1) if i != BAD
    ]
    assert info["shapes"] == info["sizes"]
    for t in timings["images"]:
        if t:
            assert t["threads"] == 1 and t["end"] > t["start"] >= 0, t

    # every browser mask equals the kernel twin's on the same pixels
    for i, cmp in enumerate(nb.kernel_eval("b.compare()")):
        if i == BAD:
            assert cmp is None
            continue
        assert cmp["pixels_match"] is True, (i, cmp)
        assert cmp["iou"] == 1.0 and cmp["max_abs_diff"] <= 1 / 255, (i, cmp)

    # the model crossed the websocket once, although several workers loaded it
    sent = nb.kernel_eval(
        "{'model': __import__('widget.transfer.chunks').transfer.chunks"
        ".sent_bytes(b.assets['model']),"
        " 'size': __import__('os').path.getsize(str(b._model_asset.path)), 'b': b.bytes_sent}"
    )
    assert sent["model"] == sent["size"] == sent["b"]["model"], sent

    # the view shows per-worker activity and one cut-out per readable image
    root = nb.page.locator(".pl-batch")
    assert nb.page.locator(".pl-batch-worker").count() >= 2
    nb.page.wait_for_function(
        f"() => document.querySelector('.pl-batch')?.dataset.drawn === '{N_GOOD}'", timeout=30_000
    )
    assert root.locator(".pl-batch-cell[data-state='error']").count() == 1
    assert "done: 7 / 7" in nb.page.locator(".pl-batch .pl-status").first.inner_text()
    nb.screenshot("engine-batch")

    # a second batch in the page reuses the cached model and the pool: no model bytes
    nb.run_cell(2)
    assert wait_done(nb, "b2")["error"] == ""
    again = nb.kernel_eval("{'sent': b2.bytes_sent, 'backends': b2.backends}")
    assert again["sent"]["model"] == 0 and again["sent"]["wasm"] == 0, again
    assert again["backends"] == ["browser", "browser"], again


def test_auto_batch_shares_the_queue_with_the_kernel(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    """backend="auto": the kernel takes images from the back of the queue; the view skips them."""
    cells = batch_cells(tmp_path)
    cells[1] = "b = widget.BatchRemover(imgs, spec)\nb"
    nb = notebook(cells[:2])
    nb.run_cell(0)
    nb.run_cell(1)
    state = wait_done(nb, "b")
    assert state["error"] == "", state
    info = nb.kernel_eval(
        "{'backends': b.backends, 'reasons': b.fallback_reasons, 'source': b.wait(30).source,"
        " 'masks': [None if m is None else list(m.shape) for m in b.masks], 'sizes': sizes}"
    )
    kernel = [i for i, k in enumerate(info["backends"]) if k == "kernel"]
    assert kernel and info["source"] in ("kernel", "mixed"), info
    for i in kernel:
        assert "the kernel took it from the batch's queue" in info["reasons"][i], info
    assert info["masks"] == info["sizes"]  # every readable image has its mask, at its size
    # the view knows: the images the kernel took are drawn as done by the kernel
    done = nb.page.locator(".pl-batch-cell[data-state='done']")
    done.first.wait_for(state="attached", timeout=60_000)
    assert done.count() >= len(kernel)
