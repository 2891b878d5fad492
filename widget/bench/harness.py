"""What the benchmarks share: their command line, the photo, JupyterLab, notebooks, the model.

A benchmark that drives the widget starts a throw-away JupyterLab
(:func:`jupyter`), launches Chromium (:func:`widget.testing.chromium.chromium`), opens one
notebook per case in a fresh browser context (:func:`open_notebook`) and names the model
in the notebook's cells (:func:`model_setup`): the catalog's IS-Net at a precision, or a
model of the user's own from a JSON spec file (``--model-spec``, what
``python -m segmentation remove --model-spec`` reads; the smoke runs give the tiny test
model this way).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation.cli.demo import sample_photos
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook
from widget.testing.page_log import PageLog, WsMeter

if TYPE_CHECKING:
    from playwright.sync_api import Browser

#: How every benchmark is run.
COMMAND = "python -m widget.bench"


def parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    """Return the argument parser of benchmark ``name``, described by its docstring's first line."""
    return argparse.ArgumentParser(
        prog=f"{COMMAND} {name}", description=(doc or "").strip().split("\n")[0]
    )


def sample_photo() -> Path:
    """Return matplotlib's ``grace_hopper.jpg``, the photo a benchmark uses unless told."""
    return sample_photos()[0]


@contextmanager
def jupyter(base: Path, isolated: bool = False) -> Iterator[JupyterServer]:
    """Run a JupyterLab in ``base`` (cross-origin isolated pages if ``isolated``), then stop it."""
    server = JupyterServer(base, isolated=isolated).start()
    try:
        yield server
    finally:
        server.stop()


def open_notebook(
    browser: Browser,
    server: JupyterServer,
    name: str,
    cells: list[str],
    viewport: tuple[int, int] | None = None,
) -> Notebook:
    """Open ``cells`` as notebook ``name`` in a page of a fresh browser context (own storage).

    The notebook's kernel is idle when this returns. Close it with :func:`close_notebook`.
    """
    if viewport is None:
        context = browser.new_context()
    else:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    nb = Notebook(page, server, name, PageLog().attach(page), WsMeter().attach(page))
    return nb.write(cells).open()


def reopen_notebook(nb: Notebook, name: str, cells: list[str]) -> Notebook:
    """Close ``nb``'s page and open ``cells`` as ``name`` in a new page of the same context.

    The new page shares the old one's storage (the browser's cache of models) but none of its
    workers: what a user gets in a new tab of a browser that ran the widget before.
    """
    context = nb.page.context
    nb.page.close()
    nb.server.shutdown_kernels()
    page = context.new_page()
    fresh = Notebook(page, nb.server, name, PageLog().attach(page), WsMeter().attach(page))
    return fresh.write(cells).open()


def close_notebook(nb: Notebook) -> None:
    """Close the notebook's browser context and stop every kernel of its server."""
    nb.page.context.close()
    nb.server.shutdown_kernels()


def model_setup(precision: str, model_spec: Path | None = None) -> tuple[str, str]:
    """Return kernel code that prepares the model, and the widget arguments that name it.

    With ``model_spec`` (a JSON file as ``python -m segmentation remove --model-spec`` reads)
    the widgets run that model, registered in a registry of their own; else the catalog's
    default model at ``precision``.
    """
    if model_spec is None:
        return "", f"precision={precision!r}"
    setup = (
        "from segmentation.models.registry import Registry\n"
        "from segmentation.models.spec_file import read_spec_file\n"
        f"_file, _spec = read_spec_file({str(model_spec)!r})\n"
        "_registry = Registry()\n"
        "_spec = _registry.register_file(_file, _spec)"
    )
    return setup, "model=_spec, registry=_registry"


def model_labels(precisions: list[str], model_spec: Path | None) -> list[str]:
    """Return the rows' labels: the precisions, or the spec file's model."""
    return [f"spec:{model_spec.stem}"] if model_spec is not None else precisions
