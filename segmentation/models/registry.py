"""The explicit registry of model specs, and the built-in catalog it starts from.

Nothing registers itself on import: :func:`builtin_registry` builds a new
:class:`Registry` from the catalog entries (:mod:`segmentation.models.isnet`,
:mod:`segmentation.models.rembg`), and :func:`default_registry` keeps one for
the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onnx

from segmentation.errors import ModelIntegrityError, ModelNotFoundError, UnknownModelError
from segmentation.models.isnet import isnet_specs
from segmentation.models.rembg import online_specs
from segmentation.models.spec import DEFAULT_PRECISION, LocalSource, ModelSpec


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
        p = Path(path).expanduser().resolve()
        if not p.is_file():
            if p.exists():
                raise ModelNotFoundError(f"{p} is not a regular file (a model file is one)")
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


def builtin_registry() -> Registry:
    """Return a new registry holding the built-in catalog."""
    return Registry([*isnet_specs(), *online_specs()])


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """Return the process-wide registry, built on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = builtin_registry()
    return _DEFAULT
