"""What a benchmark compares: catalog precisions and experimental recipes, named apart.

A catalog precision (``fp32``, ``fp16``, ``int8``, ``int8-static`` of IS-Net) is the
file users get from :func:`segmentation.store.ensure_model`; a recipe
(:class:`~segmentation.evaluation.variants.Recipe`: ``int8-calibrated``,
``int8-weight``, ``fp32@512``...) is a file built here from the fp32 model. The
recipe ``fp16`` is not the catalog's ``fp16`` (a cast of fp32 against IMG.LY's
own file), so a recipe whose name is one of the model's catalog precisions is
refused: a table never holds two different models under one label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from segmentation.evaluation.datasets import Dataset
from segmentation.evaluation.runner import Entry, entry_for
from segmentation.evaluation.variants import Recipe, build_variant, default_calibration_images
from segmentation.models.registry import Registry, default_registry


@dataclass(frozen=True)
class Plan:
    """The entries of a benchmark, where each came from, and the images recipes calibrated on.

    ``kinds`` maps each label to ``catalog`` or ``recipe``; ``calibration`` holds
    the images any ``int8-calibrated`` recipe was built from (to be left out of
    the measured images, see :func:`without_calibration`).
    """

    entries: tuple[Entry, ...]
    kinds: dict[str, str]
    calibration: tuple[Path, ...] = ()


def without_calibration(datasets: Sequence[Dataset], plan: Plan) -> list[Dataset]:
    """Leave out of ``datasets`` every sample whose image calibrated one of the plan's recipes.

    A model scored on the images it was calibrated on looks better than it is.
    """
    used = {p.resolve() for p in plan.calibration}
    out = []
    for d in datasets:
        kept = tuple(s for s in d.samples if s.image_path.resolve() not in used)
        if not kept:
            raise ValueError(f"dataset {d.name}: every image is a calibration image")
        out.append(Dataset(d.name, d.root, kept, d.source))
    return out


def catalog_precisions(model: str, registry: Registry | None = None) -> list[str]:
    """Return the catalog precisions of ``model``, sorted (unknown model: the registry's error)."""
    reg = registry or default_registry()
    if model not in reg.names():
        reg.get(model)  # raises UnknownModelError listing the known models
    return sorted(s.precision for s in reg if s.name == model)


def check_names(model: str, precisions: Sequence[str], recipes: Sequence[str],
                registry: Registry | None = None) -> list[Recipe]:  # fmt: skip
    """Validate the names before any work; return the parsed recipes.

    Raises
    ------
    ValueError
        Nothing to run, a precision the catalog lacks, a recipe named like a
        catalog precision, or one name given twice.

    """
    if not precisions and not recipes:
        raise ValueError("nothing to benchmark: give --precisions and/or --variants")
    known = catalog_precisions(model, registry)
    for p in precisions:
        if p not in known:
            raise ValueError(
                f"{model} has no catalog precision {p!r}; catalog: {', '.join(known)} "
                "(experimental builds go to --variants)"
            )
    parsed = [Recipe.parse(v) for v in recipes]
    for r in parsed:
        if r.name in known:
            raise ValueError(
                f"recipe {r.name!r} has the name of {model}'s catalog precision {r.name!r}, "
                f"a different file: pass it to --precisions, or give the recipe a resolution "
                f"({r.name}@1024)"
            )
    labels = [*precisions, *(r.name for r in parsed)]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise ValueError(f"given twice: {', '.join(twice)}")
    return parsed


def plan_entries(
    model: str,
    precisions: Sequence[str] = (),
    recipes: Sequence[str] = (),
    calibration: Sequence[Path] | None = None,
    *,
    registry: Registry | None = None,
    max_pixels: int | None = None,
) -> Plan:
    """Obtain every catalog file and build every recipe; catalog precisions come first.

    Parameters
    ----------
    model : str
        Catalog model name, e.g. ``isnet-general-use``.
    precisions : sequence of str
        Catalog precisions of ``model``, labelled by their own name.
    recipes : sequence of str
        Recipe names (:meth:`Recipe.parse`), built from ``model``'s fp32 file.
    calibration : sequence of Path, optional
        Images for ``int8-calibrated`` recipes (default: the last 8 of ``sod_bsds300``).
    registry : Registry, optional
        Where the model is looked up (default: the process-wide catalog).
    max_pixels : int, optional
        Pixel limit of the loader for the calibration images.

    """
    reg = registry or default_registry()
    parsed = check_names(model, precisions, recipes, reg)
    entries = [entry_for(reg.get(model, p), p) for p in precisions]
    kinds = dict.fromkeys(precisions, "catalog")
    calibrated: list[Path] = []
    if any(r.precision == "int8-calibrated" for r in parsed):
        calibrated = [
            Path(p) for p in calibration or default_calibration_images(max_pixels=max_pixels)
        ]
    if parsed:
        base = reg.get(model, "fp32")
        for r in parsed:
            v = build_variant(base, r, calibrated or None, registry=reg, max_pixels=max_pixels)
            entries.append(Entry(v.name, v.spec, v.size_bytes))
            kinds[v.name] = "recipe"
    return Plan(tuple(entries), kinds, tuple(calibrated))
