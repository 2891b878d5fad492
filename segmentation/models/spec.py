"""What a model is, where its bytes come from, and how to feed it.

A :class:`ModelSpec` is everything both runtimes (onnxruntime in the kernel and
onnxruntime-web in the browser) need to compute the same mask: the input layout,
the scaling and normalisation, the activation and the output normalisation.
Collections of specs live in :mod:`segmentation.models.registry`.

Every field is checked when a spec is made (:func:`check_spec`), before any file
is named after it or any memory is sized from it: a name and precision safe in
a file name, an ``input_size`` within :data:`MAX_INPUT_SIDE`, finite ``mean``
and ``std`` of three values with ``std`` > 0, a known activation...
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from segmentation.config import safe_name

Precision = Literal["int8-static", "fp32", "fp16", "int8"]
PRECISIONS: tuple[str, ...] = ("int8-static", "fp32", "fp16", "int8")


@dataclass(frozen=True)
class UrlSource:
    """A file on the web, verified by its checksum after download.

    ``sha256`` is preferred; ``md5`` is accepted where only that is published.
    At least one of them must be given: nothing is downloaded unverified.
    """

    url: str
    sha256: str | None = None
    size: int | None = None
    md5: str | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"UrlSource({self.url!r}) needs a sha256 or an md5")


@dataclass(frozen=True)
class NpmSource:
    """A resource of an npm data package, stored as sha256-named chunks.

    ``resource`` is the key in the package's ``dist/resources.json``
    (``/models/medium`` for instance).
    """

    package: str
    version: str
    resource: str


@dataclass(frozen=True)
class DerivedSource:
    """A file made from another precision of the same model by a named derivation.

    ``derivation`` is a key of :data:`segmentation.conversion.derivations.DERIVATIONS`.
    """

    from_precision: str
    derivation: str


@dataclass(frozen=True)
class LocalSource:
    """A file the user already has."""

    path: Path


Source = UrlSource | NpmSource | DerivedSource | LocalSource

#: Largest model input side: 4096 x 4096 x 3 float32 is 200 MB before the first layer.
MAX_INPUT_SIDE = 4096
#: Longest name or precision label.
MAX_LABEL = 100
#: A name or precision: what a file name can hold anywhere, and no ``:`` (the key's separator).
_LABEL = re.compile(r"[A-Za-z0-9_.+@\-][A-Za-z0-9_.+@\- ]*")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _label_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    if not (0 < len(value) <= MAX_LABEL) or not _LABEL.fullmatch(value) or value.strip(".") == "":
        return (
            f"must be 1-{MAX_LABEL} letters, digits, spaces or '_.+@-' (no path, no ':'), "
            f"got {value!r}"
        )
    return None


def spec_problems(spec: ModelSpec) -> list[tuple[str, str]]:
    """Return ``(field, what is wrong)`` for every field of ``spec`` that is not usable."""
    out: list[tuple[str, str]] = []
    for name in ("name", "precision"):
        problem = _label_problem(getattr(spec, name))
        if problem:
            out.append((name, problem))
    if spec.sha256 is not None and not (
        isinstance(spec.sha256, str) and _SHA256.fullmatch(spec.sha256)
    ):
        out.append(("sha256", f"must be 64 hex digits, got {spec.sha256!r}"))
    for name in ("input_name", "output_name", "license", "description"):
        if not isinstance(getattr(spec, name), str):
            out.append((name, f"must be a string, got {getattr(spec, name)!r}"))
    size = spec.input_size
    if not (
        isinstance(size, tuple | list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
        and all(1 <= v <= MAX_INPUT_SIDE for v in size)
    ):
        out.append(("input_size", f"must be two integers from 1 to {MAX_INPUT_SIDE}, got {size!r}"))
    if spec.channel_order not in ("RGB", "BGR"):
        out.append(("channel_order", f"must be 'RGB' or 'BGR', got {spec.channel_order!r}"))
    if not _real(spec.scale) or spec.scale == 0:
        out.append(("scale", f"must be a finite non-zero number, got {spec.scale!r}"))
    for name, positive in (("mean", False), ("std", True)):
        value = getattr(spec, name)
        ok = isinstance(value, tuple | list) and len(value) == 3 and all(map(_real, value))
        if not ok or (positive and any(v <= 0 for v in value)):
            what = "positive finite numbers" if positive else "finite numbers"
            out.append((name, f"must be three {what} (R, G, B), got {value!r}"))
    if spec.activation not in ("none", "sigmoid"):
        out.append(("activation", f"must be 'none' or 'sigmoid', got {spec.activation!r}"))
    if spec.normalization not in ("none", "minmax"):
        out.append(("normalization", f"must be 'none' or 'minmax', got {spec.normalization!r}"))
    for name in ("resize_antialias", "online_only"):
        if not isinstance(getattr(spec, name), bool):
            out.append((name, f"must be true or false, got {getattr(spec, name)!r}"))
    if not isinstance(spec.sources, tuple):
        out.append(("sources", f"must be a tuple of sources, got {spec.sources!r}"))
    return out


def check_spec(spec: ModelSpec) -> None:
    """Raise ValueError naming the first unusable field of ``spec`` (``'std' must be ...``)."""
    problems = spec_problems(spec)
    if problems:
        name, problem = problems[0]
        raise ValueError(f"{name!r} {problem}")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to fetch a bare model and run it the same way everywhere.

    Parameters
    ----------
    name : str
        Catalog name, e.g. ``"isnet-general-use"``.
    precision : str
        ``"int8-static"``, ``"fp32"``, ``"fp16"`` or ``"int8"`` (or a user-defined
        variant label).
    sources : tuple of Source
        Where the bare ONNX file comes from, tried in order.
    sha256 : str or None
        sha256 of the bare ONNX file once obtained (None: not known in advance).
    input_name, output_name : str
        Graph input and output used; other outputs are ignored. An empty string
        means the graph's first input / first output (see :meth:`resolve_io`).
    input_size : tuple of int
        ``(height, width)`` the model is fed with.
    channel_order : str
        ``"RGB"`` or ``"BGR"``.
    scale : float
        Pixels are multiplied by this first (``1/255`` maps 0..255 to 0..1).
    mean, std : tuple of float
        Per-channel normalisation after scaling: ``(x * scale - mean) / std``.
    activation : str
        ``"none"`` if the output is already a probability, ``"sigmoid"`` otherwise.
    normalization : str
        ``"minmax"`` rescales the output to 0..1 per image, ``"none"`` keeps it.
    resize_antialias : bool
        Antialias when shrinking the input (PIL-like bilinear); both runtimes
        use the same in-graph Resize, so this only has to be chosen once.
    license : str
        Licence of the weights.
    description : str
        One line for ``python -m segmentation models``.

    """

    name: str
    precision: str
    sources: tuple[Source, ...]
    sha256: str | None = None
    input_name: str = "input"
    output_name: str = "output"
    input_size: tuple[int, int] = (1024, 1024)
    channel_order: str = "RGB"
    scale: float = 1.0 / 255.0
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    activation: str = "none"
    normalization: str = "minmax"
    resize_antialias: bool = True
    license: str = "unknown"
    description: str = ""
    online_only: bool = field(default=False)

    def __post_init__(self) -> None:
        check_spec(self)

    @property
    def key(self) -> str:
        """Registry key, ``name:precision``."""
        return f"{self.name}:{self.precision}"

    @property
    def filename(self) -> str:
        """File name of the bare model in the cache directory (made safe: no path in it)."""
        return f"{safe_name(self.name)}-{safe_name(self.precision)}.onnx"

    def with_sources(self, *sources: Source) -> ModelSpec:
        """Return a copy with other sources (e.g. a user's local file)."""
        return replace(self, sources=tuple(sources))

    def resolve_io(self, inputs: Sequence[str], outputs: Sequence[str]) -> ModelSpec:
        """Return a copy naming the graph's actual input and output tensors.

        An empty ``input_name`` / ``output_name`` means the graph's first input /
        first output (what rembg feeds); a non-empty one must exist.

        Raises
        ------
        ValueError
            A named input or output is not in the graph (the message lists them).

        """
        chosen = []
        for kind, wanted, names in (
            ("input", self.input_name, inputs),
            ("output", self.output_name, outputs),
        ):
            name = wanted or (names[0] if names else "")
            if name not in names:
                raise ValueError(
                    f"{self.key}: the model has no {kind} {name!r} (it has {list(names)})"
                )
            chosen.append(name)
        return replace(self, input_name=chosen[0], output_name=chosen[1])


DEFAULT_MODEL = "isnet-general-use"
DEFAULT_PRECISION = "int8-static"
IMGLY_PACKAGE = "@imgly/background-removal-data"
IMGLY_VERSION = "1.4.5"
