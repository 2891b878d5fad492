"""Fixtures shared by the whole test-suite."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from segmentation.models.registry import Registry
from segmentation.models.spec import ModelSpec
from tests.tinymodel import build_tiny_model


class TinyModel(NamedTuple):
    """The tiny test model: its file, its spec and a registry that holds only it."""

    path: Path
    spec: ModelSpec
    registry: Registry


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModelSpec]:
    """Write the tiny ONNX model once per session."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-test.onnx")


@pytest.fixture
def tiny_model(tiny_model_file: tuple[Path, ModelSpec]) -> TinyModel:
    """A fresh :class:`Registry` holding the tiny model as ``tiny-test`` / ``fp32``."""
    path, spec = tiny_model_file
    registry = Registry()
    registry.register(spec)
    return TinyModel(path, registry.get(spec.name, spec.precision), registry)
