"""Drive a notebook in a real JupyterLab (or Notebook 7) page from a test.

A :class:`Notebook` writes an ``.ipynb`` into the server's root, opens it in
Chromium, waits for a kernel that really exists and is idle, runs cells, reads
their outputs, and executes Python in the kernel directly
(:meth:`Notebook.execute`, :meth:`Notebook.kernel_eval`). JupyterLab must run
with ``--expose-app-in-browser`` (see :mod:`widget.testing.jupyter_server`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from widget.testing.jupyter_server import KERNEL_DISPLAY, KERNEL_NAME, JupyterServer
from widget.testing.notebook_js import (
    CELL_OUTPUTS,
    EXEC_COUNT,
    EXECUTE,
    KERNEL_IDLE,
    RUN_ALL,
    RUN_CELL,
    SELECT_CELL,
)
from widget.testing.page_log import PageLog, WsMeter

if TYPE_CHECKING:  # Playwright is a test dependency; the driver imports it only to type pages
    from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
Ui = Literal["lab", "notebook"]


class KernelError(AssertionError):
    """Code run in the kernel raised; the message carries the traceback."""


@dataclass
class ExecResult:
    """What one :meth:`Notebook.execute` produced."""

    stdout: str
    stderr: str
    result: str | None


def write_notebook(root: Path, name: str, cells: list[str]) -> Path:
    """Write an nbformat 4.5 notebook of code ``cells`` that names the test kernel."""
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "id": uuid.uuid4().hex[:8],
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": src,
            }
            for src in cells
        ],
        "metadata": {
            "kernelspec": {
                "name": KERNEL_NAME,
                "display_name": KERNEL_DISPLAY,
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


def _raise_kernel_error(err: dict[str, Any], where: str) -> None:
    tb = "\n".join(err.get("traceback") or [])
    raise KernelError(f"{where}: {err.get('ename')}: {err.get('evalue')}\n{tb}")


class Notebook:
    """One notebook open in one page.

    Parameters
    ----------
    page : Page
        A fresh Playwright page.
    server : JupyterServer
        The server whose root the notebook is written into.
    name : str
        File name, relative to the server root (``.ipynb``).
    log, meter : PageLog, WsMeter
        Already attached to ``page``.

    """

    def __init__(
        self, page: Page, server: JupyterServer, name: str, log: PageLog, meter: WsMeter
    ) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.log = log
        self.meter = meter

    @property
    def path(self) -> Path:
        """The ``.ipynb`` file on disk."""
        return self.server.root / self.name

    def write(self, cells: list[str]) -> Notebook:
        """(Over)write the notebook file with these code cells."""
        write_notebook(self.server.root, self.name, cells)
        return self

    def open(self, ui: Ui = "lab", timeout_s: float = 180) -> Notebook:
        """Open the notebook (JupyterLab ``?reset`` or Notebook 7) and wait for an idle kernel."""
        token = self.server.token
        if ui == "lab":
            url = f"{self.server.url}/lab/tree/{self.name}?reset&token={token}"
        else:
            url = f"{self.server.url}/notebooks/{self.name}?token={token}"
        self.page.goto(url, wait_until="domcontentloaded")
        self.wait_kernel_idle(timeout_s)
        return self

    def wait_kernel_idle(self, timeout_s: float = 120) -> None:
        """Wait until the notebook's kernel exists, is connected and idle."""
        self.page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000)

    def run_all(self, timeout_s: float = 120, check: bool = True) -> None:
        """Run every cell (JupyterLab's *Run All*); raise if a cell errored and ``check``."""
        self.page.evaluate(RUN_ALL, timeout_s * 1000)
        self.wait_kernel_idle(timeout_s)
        if check:
            for i in range(self.cell_count()):
                self._check_cell(i)

    def run_cell(
        self, index: int, timeout_s: float = 120, check: bool = True, keyboard: bool = False
    ) -> None:
        """Run one cell, by command or by pressing Ctrl+Enter in it like a user."""
        if keyboard:
            before = self.page.evaluate(EXEC_COUNT, index)
            self.page.evaluate(SELECT_CELL, index)
            self.page.keyboard.press("Control+Enter")
            self.page.wait_for_function(
                f"() => ({EXEC_COUNT})({index}) !== null && ({EXEC_COUNT})({index}) !== {before!r}"
                if before is not None
                else f"() => ({EXEC_COUNT})({index}) !== null",
                timeout=timeout_s * 1000,
            )
        else:
            self.page.evaluate(RUN_CELL, [index, timeout_s * 1000])
        self.wait_kernel_idle(timeout_s)
        if check:
            self._check_cell(index)

    def cell_count(self) -> int:
        """Return the number of cells in the open notebook."""
        return int(
            self.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
        )

    def outputs(self, index: int) -> list[dict[str, Any]]:
        """Return the nbformat outputs of cell ``index``."""
        return list(self.page.evaluate(CELL_OUTPUTS, index))

    def cell_text(self, index: int) -> str:
        """Stream text plus the ``text/plain`` of results of cell ``index``."""
        parts: list[str] = []
        for out in self.outputs(index):
            if out.get("output_type") == "stream":
                text = out.get("text", "")
                parts.append("".join(text) if isinstance(text, list) else text)
            elif out.get("output_type") in ("execute_result", "display_data"):
                plain = out.get("data", {}).get("text/plain", "")
                parts.append(("".join(plain) if isinstance(plain, list) else plain) + "\n")
        return "".join(parts)

    def _check_cell(self, index: int) -> None:
        for out in self.outputs(index):
            if out.get("output_type") == "error":
                _raise_kernel_error(out, f"cell {index} of {self.name}")

    def execute(self, code: str, timeout_s: float = 120) -> ExecResult:
        """Run ``code`` in the notebook's kernel (not in a cell) and collect what it printed.

        Raises
        ------
        KernelError
            The code raised; the message has the kernel's traceback.

        """
        out = self.page.evaluate(EXECUTE, [code, timeout_s * 1000])
        if out.get("error"):
            _raise_kernel_error(out["error"], "kernel")
        return ExecResult(out["stdout"], out["stderr"], out["result"])

    def kernel_eval(self, expr: str, timeout_s: float = 120) -> Any:
        """Evaluate a Python expression in the kernel and return it JSON-decoded."""
        res = self.execute(f"print(__import__('json').dumps(({expr})))", timeout_s)
        lines = res.stdout.strip().splitlines()
        if not lines:
            raise KernelError(f"kernel printed nothing for {expr!r} (stderr: {res.stderr!r})")
        return json.loads(lines[-1])

    def screenshot(self, name: str) -> Path:
        """Save a full-page PNG under ``test-artifacts/`` and return its path."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
