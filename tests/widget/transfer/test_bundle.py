"""Every widget's ``_esm`` is the small loader; its bundle is in ``_bundle``/``_bundle_sha256``."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tests.conftest import TinyModel
from widget import BackgroundRemover, BatchRemover
from widget.benchmark import BrowserBenchmark
from widget.transfer import bundle
from widget.transfer.assets import STATIC


def test_each_widget_sends_the_loader_and_its_own_bundle(tiny_model: TinyModel) -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    widgets = {
        "widget.js": BackgroundRemover(img, tiny_model.spec, registry=tiny_model.registry),
        "batch.js": BatchRemover([img], tiny_model.spec, registry=tiny_model.registry),
        "bench.js": BrowserBenchmark([tiny_model.spec], [img]),
    }
    loader = (STATIC / "loader.js").read_text()
    try:
        for name, w in widgets.items():
            state = w.get_state()
            text = (STATIC / name).read_text()
            assert state["_esm"] == loader, name
            assert len(state["_esm"]) < 4096 < len(text)
            assert state["_bundle"] == text, name
            assert state["_bundle_sha256"] == hashlib.sha256(text.encode()).hexdigest()
        # re-runs share one copy of the text in the kernel, too
        again = BackgroundRemover(img, tiny_model.spec, registry=tiny_model.registry)
        assert again._bundle is widgets["widget.js"]._bundle
        again.close()
    finally:
        for w in widgets.values():
            w.close()


def test_a_missing_bundle_names_the_build_step() -> None:
    with pytest.raises(FileNotFoundError, match=r"no-such\.js is missing: run npm"):
        bundle.read_bundle("no-such.js")
