"""The browser engine in real JupyterLab + Chromium, with the tiny model.

The widget runs onnxruntime-web in its own worker; the kernel twin checks the
mask. Assets are cached in the browser by sha256: a second widget, or one made
after a page reload, must not receive the model or the WebAssembly again.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import NotebookFactory
from widget.testing.widgets import wait_result


def tiny_cells(tmp: Path, names: list[str]) -> list[str]:
    setup = (
        "import widget\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp)!r})\n"
        "img = red_square_rgba(300, 400)"
    )
    # the browser engine is what these cells test: backend="browser" (no kernel first answer)
    return [setup] + [
        f"{n} = widget.BackgroundRemover(img, spec, backend='browser')\n{n}" for n in names
    ]


def test_tiny_model_runs_in_browser_and_matches_kernel(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(tiny_cells(tmp_path, ["w"]))
    nb.run_all()
    state = wait_result(nb)
    assert state["error"] == ""
    assert state["backend_used"] == "browser", state
    cmp = nb.kernel_eval("w.compare()")
    assert cmp["pixels_match"] is True
    assert cmp["max_abs_diff"] <= 1 / 255, cmp
    assert cmp["iou"] == 1.0
    info = nb.kernel_eval(
        "{'ep': w.execution_provider, 'threads': w.threads, 'timings': w.timings,"
        " 'shape': list(w.mask.shape), 'caps': w.capabilities, 'sum': int(w.mask.sum())}"
    )
    assert info["ep"] == "wasm"
    assert info["threads"] == 1  # JupyterLab is not cross-origin isolated
    assert info["shape"] == [300, 400]
    assert info["caps"]["wasm"] and info["caps"]["simd"]
    assert info["sum"] > 0
    assert {"transfer", "session_create", "inference", "total"} <= set(info["timings"])
    # the view drew the cut-out and says it is done
    root = nb.page.locator(".pl-root[data-result='full']")
    root.wait_for(state="attached", timeout=30_000)
    assert "done in the browser" in nb.page.locator(".pl-status").first.inner_text()
    nb.screenshot("engine-tiny")


def test_assets_are_not_sent_twice(notebook: NotebookFactory, tmp_path: Path) -> None:
    nb = notebook(tiny_cells(tmp_path, ["w1", "w2"]))
    nb.run_cell(0)
    nb.run_cell(1)
    assert wait_result(nb, "w1")["backend_used"] == "browser"
    first = nb.kernel_eval("w1.bytes_sent")
    assert first["wasm"] > 10_000_000 and first["model"] > 0, first
    shas = nb.kernel_eval("w1.assets")
    sent_before = nb.kernel_eval(
        "{k: __import__('widget.transfer.chunks').transfer.chunks.sent_bytes(v)"
        " for k, v in w1.assets.items()}"
    )

    # a second widget in the same page
    nb.meter.reset()
    nb.run_cell(2)
    assert wait_result(nb, "w2")["backend_used"] == "browser"
    assert nb.kernel_eval("w2.bytes_sent") == {"model": 0, "wasm": 0, "image": first["image"]}
    sent_after = nb.kernel_eval(
        "{k: __import__('widget.transfer.chunks').transfer.chunks.sent_bytes(v)"
        " for k, v in w2.assets.items()}"
    )
    assert sent_after["model"] == sent_before["model"]
    assert sent_after["wasm"] == sent_before["wasm"]
    # the widget's state (its bundle text, ~0.3 MB) and messages, never the model or runtime again
    assert nb.meter.received_bytes < 2_000_000, nb.meter.received_bytes

    # a page reload (same browser profile): the IndexedDB cache survives it
    nb.write(tiny_cells(tmp_path, ["w3"]))
    nb.page.reload(wait_until="domcontentloaded")
    nb.open()
    nb.meter.reset()
    nb.run_all()
    assert wait_result(nb, "w3")["backend_used"] == "browser"
    again = nb.kernel_eval("w3.assets")
    assert (again["model"], again["wasm"]) == (shas["model"], shas["wasm"])
    assert nb.kernel_eval("w3.bytes_sent") == {"model": 0, "wasm": 0, "image": first["image"]}
    # the widget's state (its bundle text, ~0.3 MB) and messages, never the model or runtime again
    assert nb.meter.received_bytes < 2_000_000, nb.meter.received_bytes
