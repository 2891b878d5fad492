"""Fixtures of the segmentation tests: a private model cache, the CLI's environment, a spec file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from segmentation.config import CACHE_ENV, cache_dir
from tests.conftest import TinyModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache of the test's own (``$PIXEL_LIBERATION_CACHE`` in ``tmp_path``)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return cache_dir()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of the CLI: this checkout importable, a private model cache."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PIXEL_LIBERATION_CACHE": str(tmp_path / "cache"),
        "PIXEL_LIBERATION_OFFLINE": "1",
    }


@pytest.fixture
def spec_file(tiny_model: TinyModel, tmp_path: Path) -> Path:
    """``--model-spec`` JSON for the tiny model."""
    spec = tiny_model.spec
    path = tmp_path / "tiny.json"
    fields = {
        "path": str(tiny_model.path), "name": spec.name, "precision": spec.precision,
        "input_size": list(spec.input_size), "scale": spec.scale, "mean": list(spec.mean),
        "std": list(spec.std), "activation": spec.activation,
        "normalization": spec.normalization,
    }  # fmt: skip
    path.write_text(json.dumps(fields))
    return path
