"""Named recipes that make one model file from another (the catalog's derived sources).

A catalog entry whose source is a :class:`~segmentation.models.spec.DerivedSource`
names a recipe here and the precision it starts from: ``fp16_to_fp32`` upcasts
IMG.LY's fp16 IS-Net (:mod:`segmentation.variants.convert`) and
``fp32_to_int8_static`` quantizes fp32 with the packaged activation ranges
(:mod:`segmentation.variants.int8_static`). Every recipe writes its file atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from segmentation.models.integrity import load_checked, save_atomic
from segmentation.models.progress import step
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL
from segmentation.variants.convert import fp16_to_fp32_model
from segmentation.variants.int8_static import build_int8_static

Recipe = Callable[[Path, Path], Path]


def fp16_to_fp32(src: Path, dest: Path) -> Path:
    """Recipe: read the fp16 model ``src``, write the fp32 model ``dest`` atomically."""
    return save_atomic(fp16_to_fp32_model(load_checked(src)), dest)


def fp32_to_int8_static(src: Path, dest: Path) -> Path:
    """Recipe: IS-Net fp32 ``src`` -> static int8 ``dest`` (see :mod:`.int8_static`)."""
    return build_int8_static(src, dest, default_registry().get(DEFAULT_MODEL, "fp32"))


RECIPES: dict[str, Recipe] = {
    "fp16_to_fp32": fp16_to_fp32,
    "fp32_to_int8_static": fp32_to_int8_static,
}


def run_recipe(recipe: str, src: Path, dest: Path, *, progress: bool = True) -> Path:
    """Run a named recipe, showing a tqdm message while it works when ``progress`` is True."""
    if recipe not in RECIPES:
        raise KeyError(f"unknown recipe {recipe!r}; known recipes: {', '.join(sorted(RECIPES))}")
    with step(progress, f"{recipe}: {src.name} -> {dest.name}"):
        return RECIPES[recipe](src, dest)
