"""The model a job runs, named by sha256 so every worker runs the very same file.

On the client, :func:`prepare_model` makes the model ready once (fetched,
wrapped) and returns a :class:`ModelRef`: the resolved spec and the sha256 of
the bare and of the wrapped file. On a worker, :func:`open_model` finds the
bare file in the worker's cache (a shared cache, or the same machine) or takes
the bytes the client shipped (:func:`read_payload`, given to the Dask worker
plugin), wraps it like the client did, checks both sha256, and returns the
process-wide session of :func:`segmentation.session.get_segmenter`, so each
worker process loads the model once. A custom model file (a spec with a
:class:`~segmentation.models.spec.LocalSource`, e.g. one registered with
:meth:`~segmentation.models.registry.Registry.register_file`) travels the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from segmentation.config import cache_file
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.files import atomic_path, sha256_file
from segmentation.models.progress import Progress
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import LocalSource, ModelSpec
from segmentation.session import Segmenter, get_segmenter, release_segmenters
from segmentation.store import ensure_wrapped, model_path


@dataclass(frozen=True)
class ModelRef:
    """A model as the client prepared it: what every worker must run, byte for byte.

    Attributes
    ----------
    spec : ModelSpec
        The resolved spec (sources as on the client).
    bare_sha256 : str
        sha256 of the bare ONNX file.
    wrapped_sha256 : str
        sha256 of the wrapped file (pre/post-processing in the graph) the client built.

    """

    spec: ModelSpec
    bare_sha256: str
    wrapped_sha256: str

    @property
    def key(self) -> str:
        """``name:precision@<first 12 hex of the wrapped sha256>``."""
        return f"{self.spec.key}@{self.wrapped_sha256[:12]}"


def prepare_model(
    spec: ModelSpec, registry: Registry | None = None, progress: bool | Progress = False
) -> ModelRef:
    """Obtain and wrap ``spec`` here (the client), and name both files by sha256."""
    wrapped = ensure_wrapped(spec, registry=registry or default_registry(), progress=progress)
    return ModelRef(spec, sha256_file(model_path(spec)), sha256_file(wrapped))


def read_payload(ref: ModelRef) -> bytes:
    """Return the bare model's bytes, to ship to workers that do not have the file."""
    path = model_path(ref.spec)
    data = path.read_bytes()
    if sha256_file(path) != ref.bare_sha256:
        raise ModelIntegrityError(f"{path} changed since the job started; run it again")
    return data


def shipped_path(ref: ModelRef) -> Path:
    """Where a worker keeps a shipped bare model: ``<cache>/shipped/<sha>-<file>``."""
    return cache_file("shipped", f"{ref.bare_sha256[:16]}-{ref.spec.filename}")


def _has(path: Path, sha256: str) -> bool:
    try:
        return path.is_file() and sha256_file(path) == sha256
    except OSError:
        return False


def locate_bare(ref: ModelRef, payload: bytes | None = None) -> ModelSpec:
    """Return a spec whose bare file is on this machine with the expected sha256.

    Looked for where the spec says (the worker's cache, or the user's file),
    then among shipped files; else ``payload`` is written there (atomically).

    Raises
    ------
    ModelNotFoundError
        The file is missing or differs here and no payload was shipped.
    ModelIntegrityError
        The shipped payload does not have the expected sha256.

    """
    here = model_path(ref.spec)
    if _has(here, ref.bare_sha256):
        return ref.spec
    shipped = shipped_path(ref)
    if not _has(shipped, ref.bare_sha256):
        if payload is None:
            raise ModelNotFoundError(
                f"{ref.spec.key}: {here} is missing or differs on this worker (sha256 "
                f"{ref.bare_sha256[:12]}… expected); use a cache shared with the client or "
                "ship the model (ship_model=True, --ship-model)"
            )
        with atomic_path(shipped) as tmp:
            tmp.write_bytes(payload)
        if not _has(shipped, ref.bare_sha256):
            shipped.unlink(missing_ok=True)
            raise ModelIntegrityError(f"{ref.spec.key}: the shipped model failed its sha256")
    return ref.spec.with_sources(LocalSource(shipped))


_REGISTRIES: dict[str, Registry] = {}
_LOCK = threading.Lock()


def wrapped_file(ref: ModelRef, payload: bytes | None = None) -> tuple[Path, Registry]:
    """Wrap the located bare file here; return the wrapped path (sha256 checked) and registry.

    The registry holds only this model; it is kept per process, so
    :func:`~segmentation.session.get_segmenter` reuses its session.
    """
    with _LOCK:
        registry = _REGISTRIES.get(ref.wrapped_sha256)
        if registry is None:
            registry = Registry([locate_bare(ref, payload)])
            _REGISTRIES[ref.wrapped_sha256] = registry
    spec = registry.get(ref.spec.name, ref.spec.precision)
    wrapped = ensure_wrapped(spec, registry=registry)
    got = sha256_file(wrapped)
    if got != ref.wrapped_sha256:
        raise ModelIntegrityError(
            f"{ref.spec.key}: the wrapped model built here ({wrapped}, sha256 {got[:12]}…) "
            f"differs from the client's ({ref.wrapped_sha256[:12]}…); install the same "
            "pixel-liberation and onnx versions on the workers"
        )
    return wrapped, registry


def open_model(
    ref: ModelRef, threads: int | None, payload: bytes | None = None, *, only: bool = False
) -> Segmenter:
    """Return this process's session of ``ref`` (created once, file checked by sha256).

    ``only=True`` first releases the sessions of every other model this module
    opened (a benchmark worker going from one variant to the next).
    """
    if only:
        with _LOCK:
            others = [k for k in _REGISTRIES if k != ref.wrapped_sha256]
            for key in others:
                release_segmenters(_REGISTRIES.pop(key))
    _, registry = wrapped_file(ref, payload)
    seg = get_segmenter(ref.spec.name, ref.spec.precision, threads, registry=registry)
    if sha256_file(seg.model_path) != ref.wrapped_sha256:
        raise ModelIntegrityError(f"{ref.spec.key}: {seg.model_path} changed while in use")
    return seg
