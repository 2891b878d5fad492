"""The tutorial notebooks, run in a real JupyterLab (and Notebook 7) with Chromium.

nbval runs them with no browser, where every widget falls back to the kernel twin. Here a
browser is attached to each notebook that shows widgets (04 shows none: nbval covers it):
the notebook is opened like a user would, its code cells are run one by one, and after a
cell that displays a ``BackgroundRemover`` the test waits until the browser has computed its
own mask (the kernel's may have come first), so the cells after it see the browser's result
(and the notebooks' own parity asserts run against it). A cell that raises fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import NotebookFactory
from widget.testing.jupyter_server import KERNEL_DISPLAY, KERNEL_NAME
from widget.testing.notebook import Notebook, Ui
from widget.testing.widgets import wait_result

pytestmark = [pytest.mark.isnet, pytest.mark.slow]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET_CELL = re.compile(r"^(\w+) = BackgroundRemover\(.*\n\1\s*$", re.S | re.M)
CELL_TIMEOUT_S = 900


def _source(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def copy_notebook(name: str, root: Path) -> list[dict[str, Any]]:
    """Copy a stored notebook (and the results files it reads) into the server root.

    The copy has no outputs and the test kernel.
    """
    if (NOTEBOOKS / "results").is_dir() and not (root / "results").exists():
        shutil.copytree(NOTEBOOKS / "results", root / "results")
    nb = json.loads((NOTEBOOKS / name).read_text())
    nb["metadata"]["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": KERNEL_DISPLAY,
        "language": "python",
    }
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (root / name).write_text(json.dumps(nb))
    return list(nb["cells"])


def run_like_a_user(nb: Notebook, cells: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Run the code cells in order, waiting for each widget's browser mask; return their states."""
    states: dict[str, dict[str, Any]] = {}
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        nb.run_cell(i, timeout_s=CELL_TIMEOUT_S)
        match = WIDGET_CELL.search(_source(cell))
        if match:
            var = match.group(1)
            states[var] = state = wait_result(nb, var, timeout_s=CELL_TIMEOUT_S)
            assert state["error"] == "", state
            # the browser computed its own mask: first, or after the kernel's, equal to it
            assert state["backend_used"] == "browser" or state["parity"].startswith(
                ("identical", "equal within")
            ), state
    return states


def open_notebook(notebook: NotebookFactory, name: str, ui: Ui) -> tuple[Notebook, list[Any]]:
    nb = notebook([], name=name, open=False)
    cells = copy_notebook(name, nb.server.root)
    return nb.open(ui, timeout_s=120), cells


def cell_index(cells: list[dict[str, Any]], needle: str) -> int:
    return next(i for i, c in enumerate(cells) if needle in _source(c))


def test_quickstart_in_jupyterlab(notebook: NotebookFactory) -> None:
    nb, cells = open_notebook(notebook, "01_quickstart.ipynb", "lab")
    states = run_like_a_user(nb, cells)
    text = nb.cell_text(cell_index(cells, "mask = w.mask"))
    if states["w"]["parity"].startswith("equal within"):  # rounding apart: the kernel's stays
        assert "computed by the kernel" in text, text
    else:  # the browser's mask (first, or identical to the kernel's)
        assert "computed by the browser" in text and "why the kernel" not in text, text
    assert nb.kernel_eval("w.fallback_reason") == ""
    nb.screenshot("notebook-01-lab")


def test_quickstart_in_notebook7(notebook: NotebookFactory) -> None:
    nb, cells = open_notebook(notebook, "01_quickstart.ipynb", "notebook")
    assert "/notebooks/" in nb.page.url
    run_like_a_user(nb, cells)
    text = nb.cell_text(cell_index(cells, "mask = w.mask"))
    assert "computed by the browser" in text, text
    nb.screenshot("notebook-01-nb7")


def test_browser_vs_python_in_jupyterlab(notebook: NotebookFactory) -> None:
    nb, cells = open_notebook(notebook, "03_browser_vs_python.ipynb", "lab")
    run_like_a_user(nb, cells)
    parity = nb.cell_text(cell_index(cells, "if w.browser_mask is not None:"))
    assert "pixels_match" in parity and "True" in parity, parity  # the browser branch ran
    stages = nb.kernel_eval("sorted(w.timings)")
    assert {"inference", "total"} <= set(stages), stages
    nb.screenshot("notebook-03-lab")


def test_bring_your_own_model_in_jupyterlab(notebook: NotebookFactory) -> None:
    nb, cells = open_notebook(notebook, "05_bring_your_own_model.ipynb", "lab")
    run_like_a_user(nb, cells)
    text = nb.cell_text(cell_index(cells, "mine = w.mask"))
    assert "pixels_match': True" in text, text  # the browser's own mask was compared
    assert nb.kernel_eval("w.model_key") == "my-isnet:fp16-512"


def test_interactive_masking_in_jupyterlab(notebook: NotebookFactory) -> None:
    nb, cells = open_notebook(notebook, "02_interactive_masking.ipynb", "lab")
    run_like_a_user(nb, cells)
    text = nb.cell_text(cell_index(cells, "model = w.model_mask"))
    assert "model mask by the browser" in text, text
    # the edits made from Python reached the view's synced state and were acknowledged
    state = nb.kernel_eval("[w.edit_cursor, len(w.edit_log), w.edit_rev == w.edit_ack]")
    assert state == [2, 2, True], state
