"""Named derivations that make one catalog file from another (the catalog's derived sources).

A catalog entry whose source is a :class:`~segmentation.models.spec.DerivedSource`
names a derivation here and the precision it starts from: ``fp16_to_fp32`` upcasts
IMG.LY's fp16 IS-Net (:mod:`segmentation.conversion.convert`) and
``fp32_to_int8_static`` quantizes fp32 with the packaged activation ranges
(:mod:`segmentation.conversion.int8_static`). Every derivation writes its file atomically.

These are fixed steps of the catalog. The experimental builds that ``python -m
segmentation bench --variants`` compares are recipes (:mod:`segmentation.evaluation.variants`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from segmentation.conversion.convert import fp16_to_fp32_model
from segmentation.conversion.int8_static import build_int8_static
from segmentation.models.integrity import load_checked, save_atomic
from segmentation.models.progress import step
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL

#: Reads the source file, writes the derived file atomically, returns its path.
Derivation = Callable[[Path, Path], Path]


def fp16_to_fp32(src: Path, dest: Path) -> Path:
    """Read the fp16 model ``src``, write the fp32 model ``dest`` atomically."""
    return save_atomic(fp16_to_fp32_model(load_checked(src)), dest)


def fp32_to_int8_static(src: Path, dest: Path) -> Path:
    """IS-Net fp32 ``src`` -> static int8 ``dest`` (see :mod:`.int8_static`)."""
    return build_int8_static(src, dest, default_registry().get(DEFAULT_MODEL, "fp32"))


DERIVATIONS: dict[str, Derivation] = {
    "fp16_to_fp32": fp16_to_fp32,
    "fp32_to_int8_static": fp32_to_int8_static,
}


def run_derivation(name: str, src: Path, dest: Path, *, progress: bool = True) -> Path:
    """Run a named derivation, showing a tqdm message while it works when ``progress`` is True."""
    if name not in DERIVATIONS:
        known = ", ".join(sorted(DERIVATIONS))
        raise KeyError(f"unknown derivation {name!r}; known derivations: {known}")
    with step(progress, f"{name}: {src.name} -> {dest.name}"):
        return DERIVATIONS[name](src, dest)
