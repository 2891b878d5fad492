"""The browser harness itself works: JupyterLab, the kernel, widgets, websocket metering."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import NotebookFactory
from widget.testing.notebook import KernelError


def test_notebook_driver(notebook: NotebookFactory) -> None:
    """One page: cells by command and by keyboard, errors, kernel_eval, console, websocket."""
    nb = notebook(
        [
            "import sys; print(sys.executable)",
            "6 * 7",
            "a = 20",
            "print(a + 1)",
            "raise ValueError('boom from a cell')",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    assert Path(nb.cell_text(0).strip()) == Path(sys.executable)
    assert nb.cell_text(1).strip() == "42"
    nb.run_cell(2, keyboard=True)
    nb.run_cell(3, keyboard=True)
    assert nb.cell_text(3).strip() == "21"
    assert nb.outputs(2) == []
    with pytest.raises(KernelError, match="boom from a cell"):
        nb.run_all()

    # kernel_eval sees the notebook's state: same kernel, the project's interpreter
    assert nb.kernel_eval("{'a': a, 'exe': sys.executable}") == {"a": 20, "exe": sys.executable}
    with pytest.raises(KernelError, match="ZeroDivisionError"):
        nb.execute("1 / 0")

    nb.page.evaluate("() => console.warn('pixel-liberation harness probe')")
    assert nb.log.matching(r"\[warning\] pixel-liberation harness probe")

    nb.meter.reset()
    assert nb.meter.received_bytes == 0
    nb.execute("print('x' * 300_000)")
    # the printed text reached the page over the kernel websocket, and was counted
    assert 300_000 <= nb.meter.received_bytes < 400_000
    assert nb.meter.sent_bytes > 0


def test_ipywidgets_slider_renders_and_syncs(notebook: NotebookFactory) -> None:
    nb = notebook(["import ipywidgets as w\nslider = w.IntSlider(value=3, min=0, max=10)\nslider"])
    nb.run_all()
    readout = nb.page.locator(".jp-OutputArea .widget-slider .widget-readout")
    readout.wait_for(state="visible")
    assert readout.inner_text().strip() == "3"
    nb.meter.reset()
    nb.execute("slider.value = 8")
    nb.page.wait_for_function(
        "() => document.querySelector('.jp-OutputArea .widget-readout')?.textContent.trim() === '8'"
    )
    # the update travelled kernel -> browser over the kernel's websocket
    assert nb.meter.received_frames > 0
    assert nb.meter.received_bytes > 0
    assert any("/api/kernels/" in u for u in nb.meter.urls)
    nb.screenshot("harness-slider")


def test_notebook7_opens_and_runs(notebook: NotebookFactory) -> None:
    nb = notebook(["print('hello from notebook 7')"], ui="notebook")
    nb.run_all()
    assert nb.cell_text(0).strip() == "hello from notebook 7"
    assert "/notebooks/" in nb.page.url
