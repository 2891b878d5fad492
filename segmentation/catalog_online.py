"""Catalog entries that need the internet: rembg's published models (filled in by issue 2)."""

from __future__ import annotations

from segmentation.catalog import ModelSpec


def online_specs() -> list[ModelSpec]:
    """Specs of models downloaded by URL and verified by sha256."""
    return []
