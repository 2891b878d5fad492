"""Experimental variants for the benchmark: a recipe (precision, resolution) built from fp32.

These are what ``python -m segmentation bench --variants`` and ``quantize --to`` name. They
are not the catalog's files: those are the precisions users get, made by the fixed steps of
:mod:`segmentation.conversion.derivations`.

A :class:`Recipe` says what to do to the fp32 bare model (``fp16``,
``int8-dynamic``, ``int8-calibrated`` with its calibration, ``int8-weight``, and an
input resolution); :func:`build_variant` makes the file under
``cache_dir()/variants/`` next to a JSON record (recipe, source sha256,
calibration-set hash, result sha256) and rebuilds only when one of those inputs
changes. :func:`make_variant` returns a :class:`ModelSpec` with a
:class:`LocalSource`, which ``ensure_wrapped`` and the runtimes accept like any
catalog model.

Names: ``PRECISION[-OPTION...][@RESOLUTION]``, e.g. ``fp16``, ``int8-dynamic``,
``int8-calibrated`` (= ``int8-calibrated-entropy-pc``), ``int8-calibrated-minmax-pt-qhead``,
``fp32@512``. Options of ``int8-calibrated``: ``minmax|entropy|percentile``,
``pc`` (per-channel weights) or ``pt`` (per-tensor), ``qhead`` (quantize the
output head too; by default it stays float).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import onnx

from segmentation.config import cache_file, datasets_dir, safe_name
from segmentation.conversion.calibration import ImageCalibrationReader, calibration_folder
from segmentation.conversion.convert import prepare_float
from segmentation.conversion.quantize import (
    CALIBRATION_METHODS,
    head_nodes,
    quantize_dynamic_int8,
    quantize_static_qdq,
    quantize_weights_only,
    set_resolution,
    to_fp16,
)
from segmentation.images import check_image_file
from segmentation.models.integrity import load_checked, save_atomic, sha256_file
from segmentation.models.registry import Registry
from segmentation.models.spec import LocalSource, ModelSpec
from segmentation.store import ensure_model

#: Bump when a builder changes its output, so cached variants are rebuilt.
VARIANTS_VERSION = 1
VARIANT_PRECISIONS = ("fp32", "fp16", "int8-dynamic", "int8-calibrated", "int8-weight")


@dataclass(frozen=True)
class Recipe:
    """How to make a variant from the fp32 bare model."""

    precision: str = "fp32"
    resolution: int | None = None
    calibration: str = "entropy"
    per_channel: bool = True
    float_head: bool = True

    def __post_init__(self) -> None:
        if self.precision not in VARIANT_PRECISIONS:
            raise ValueError(
                f"unknown variant precision {self.precision!r}; use one of {VARIANT_PRECISIONS}"
            )
        if self.calibration not in CALIBRATION_METHODS:
            raise ValueError(
                f"unknown calibration {self.calibration!r}; use one of {CALIBRATION_METHODS}"
            )
        if self.resolution is not None and not 32 <= self.resolution <= 4096:
            raise ValueError(f"resolution must be within 32..4096, got {self.resolution}")

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``int8-calibrated-entropy-pc@512``."""
        parts = [self.precision]
        if self.precision == "int8-calibrated":
            parts += [self.calibration, "pc" if self.per_channel else "pt"]
            if not self.float_head:
                parts.append("qhead")
        res = f"@{self.resolution}" if self.resolution else ""
        return "-".join(parts) + res

    @classmethod
    def parse(cls, text: str) -> Recipe:
        """Read a variant name (see the module docstring); the inverse of :attr:`name`."""
        body, _, res = text.strip().partition("@")
        try:
            resolution = int(res) if res else None
        except ValueError:
            raise ValueError(f"variant {text!r}: resolution after '@' must be an integer") from None
        precision = next(
            (p for p in sorted(VARIANT_PRECISIONS, key=len, reverse=True) if body.startswith(p)),
            None,
        )
        if precision is None and body.startswith("int8-static"):
            raise ValueError(
                f"variant {text!r}: 'int8-static' is the catalog precision (fixed, no images); "
                "the recipe calibrated on your images is 'int8-calibrated'"
            )
        if precision is None:
            raise ValueError(f"variant {text!r}: must start with one of {VARIANT_PRECISIONS}")
        kw: dict[str, object] = {}
        for opt in filter(None, body[len(precision) :].split("-")):
            if precision != "int8-calibrated":
                raise ValueError(f"variant {text!r}: {precision} takes no options")
            if opt in CALIBRATION_METHODS:
                kw["calibration"] = opt
            elif opt in ("pc", "pt"):
                kw["per_channel"] = opt == "pc"
            elif opt == "qhead":
                kw["float_head"] = False
            else:
                raise ValueError(f"variant {text!r}: unknown option {opt!r}")
        return cls(precision=precision, resolution=resolution, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Variant:
    """A built variant: its file and the record of how it was made."""

    name: str
    recipe: Recipe
    path: Path
    sha256: str
    size_bytes: int
    source_sha256: str
    calibration_sha256: str | None
    spec: ModelSpec


def default_calibration_images(count: int = 8, *, max_pixels: int | None = None) -> list[Path]:
    """Return the last ``count`` usable images of ``sod_bsds300`` (benchmarks take the first ones).

    Only regular image files are candidates, each read by the project's loader
    (see :func:`~segmentation.conversion.calibration.calibration_folder`); the
    ones it refuses are left out and the ones before them taken instead.
    """
    folder = datasets_dir() / "sod_bsds300" / "images"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no calibration images given and the default set {folder} does not exist; "
            "pass calibration images explicitly"
        )
    return calibration_folder(folder, count, max_pixels=max_pixels, last=True).images


def calibration_hash(images: Sequence[Path]) -> str:
    """sha256 over the calibration images' bytes, in order (each must be a regular image file)."""
    h = hashlib.sha256()
    for p in images:
        check_image_file(Path(p))
        h.update(bytes.fromhex(sha256_file(Path(p))))
    return h.hexdigest()


def _build(
    model: onnx.ModelProto,
    spec: ModelSpec,
    recipe: Recipe,
    images: list[Path],
    dest: Path,
    max_pixels: int | None,
) -> None:

    size = spec.input_size
    part = dest.with_name(dest.name + ".part")
    if recipe.precision == "fp32":
        save_atomic(model, dest)
    elif recipe.precision == "fp16":
        save_atomic(to_fp16(model), dest)
    elif recipe.precision == "int8-weight":
        save_atomic(quantize_weights_only(model), dest)
    elif recipe.precision == "int8-dynamic":
        save_atomic(model, part)
        quantize_dynamic_int8(part, dest)
        part.unlink()
    else:
        exclude = head_nodes(model, spec.output_name) if recipe.float_head else []
        reader = ImageCalibrationReader(spec, size, images, max_pixels)
        quantize_static_qdq(
            model,
            dest,
            reader,
            method=recipe.calibration,
            per_channel=recipe.per_channel,
            exclude=exclude,
        )


def build_variant(
    base: ModelSpec,
    recipe: Recipe | str,
    calibration: Sequence[Path] | None = None,
    *,
    registry: Registry | None = None,
    rebuild: bool = False,
    max_pixels: int | None = None,
) -> Variant:
    """Build (or find in the cache) the variant ``recipe`` of the model ``base``.

    Parameters
    ----------
    base : ModelSpec
        Any catalog or user model; fp16 weights are upcast to fp32 first.
    recipe : Recipe or str
        What to build; a string is parsed with :meth:`Recipe.parse`.
    calibration : sequence of Path, optional
        Images for ``int8-calibrated``; default :func:`default_calibration_images`.
    registry : Registry, optional
        Used to obtain ``base`` when it is derived from another variant.
    rebuild : bool
        Build even if a cached file with the same inputs exists.
    max_pixels : int, optional
        Pixel limit for the calibration images (default: the loader's).

    """
    recipe = Recipe.parse(recipe) if isinstance(recipe, str) else recipe
    src = ensure_model(base, registry=registry)
    src_sha = sha256_file(src)
    images: list[Path] = []
    calib_sha = None
    if recipe.precision == "int8-calibrated":
        images = [Path(p) for p in calibration or default_calibration_images(max_pixels=max_pixels)]
        calib_sha = calibration_hash(images)
    res = recipe.resolution
    size = (res, res) if res else base.input_size
    inputs = {
        "version": VARIANTS_VERSION,
        "source_sha256": src_sha,
        "recipe": asdict(recipe),
        "calibration_sha256": calib_sha,
        "io": [base.input_name, base.output_name, list(size)],
        "feed": [base.scale, list(base.mean), list(base.std), base.channel_order],
    }
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
    stem = f"{safe_name(base.name)}-{safe_name(recipe.name.replace('@', '-at'))}-{key}"
    dest = cache_file("variants", f"{stem}.onnx")
    record = dest.with_suffix(".json")
    fed = replace(base, input_size=size)
    if rebuild or not (dest.is_file() and record.is_file()):
        model = prepare_float(load_checked(src), base)
        if res and size != _static_size(model, base.input_name):
            model = set_resolution(model, base.input_name, size)
        dest.parent.mkdir(parents=True, exist_ok=True)
        _build(model, fed, recipe, images, dest, max_pixels)
        out = {
            **inputs,
            "name": recipe.name,
            "sha256": sha256_file(dest),
            "calibration_images": [str(p) for p in images],
        }
        record.write_text(json.dumps(out, indent=2))
    sha = json.loads(record.read_text())["sha256"]
    spec = replace(
        fed,
        precision=recipe.name,
        sources=(LocalSource(dest),),
        sha256=sha,
        description=f"{base.name} variant {recipe.name}",
    )
    return Variant(recipe.name, recipe, dest, sha, dest.stat().st_size, src_sha, calib_sha, spec)


def _static_size(model: onnx.ModelProto, input_name: str) -> tuple[int, int] | None:
    for i in model.graph.input:
        if i.name == input_name:
            dims = [d.dim_value for d in i.type.tensor_type.shape.dim]
            return (dims[2], dims[3]) if len(dims) == 4 and all(dims[2:]) else None
    return None


def make_variant(
    base: ModelSpec, recipe: Recipe | str, calibration: Sequence[Path] | None = None
) -> ModelSpec:
    """Return the :class:`ModelSpec` of a variant (built if needed), runnable like any model."""
    return build_variant(base, recipe, calibration).spec
