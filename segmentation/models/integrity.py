"""Integrity of model files: sha256 (remembered per process), JSON sidecars, verification.

Every file the store writes to the cache gets ``<file>.json`` beside it,
recording its sha256, size and origin, so later damage is detected on load by
:func:`verify_model`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import onnx

from segmentation.config import cache_dir
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.files import atomic_path, known_sha256, sha256_file
from segmentation.models.npm_package import find_package, verify_assembled
from segmentation.models.spec import LocalSource, ModelSpec, NpmSource

#: sha256 of files already hashed in this process, keyed by (path, size, mtime).


def sidecar_path(path: Path) -> Path:
    """Return the JSON file next to ``path`` that records its sha256 and origin."""
    return path.with_name(path.name + ".json")


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """Return the sidecar of ``path`` as a dict, or None if absent or unreadable."""
    try:
        data = json.loads(sidecar_path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_sidecar(path: Path, sha256: str, **origin: Any) -> None:
    """Record ``sha256`` (and where the file came from) next to ``path``, atomically."""
    side = sidecar_path(path)
    tmp = side.with_name(f"{side.name}.part{os.getpid()}")
    payload = {"file": path.name, "sha256": sha256, "size": path.stat().st_size, **origin}
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))
    tmp.replace(side)


def load_checked(path: Path) -> onnx.ModelProto:
    """Load an ONNX file, turning a parse failure into a clear error."""
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf raises several unrelated types
        raise ModelIntegrityError(
            f"{path} is not a valid ONNX model (truncated or corrupt?): {exc}; "
            f"delete it (`rm '{path}'`) and fetch it again"
        ) from exc


def _fix_hint(spec: ModelSpec, path: Path) -> str:
    if any(isinstance(s, LocalSource) for s in spec.sources):
        return "replace it with a good copy of your model"
    return (
        f"delete it (`rm '{path}'`) and fetch it again, or let "
        "ensure_model(spec, repair=True) / `python -m segmentation fetch` replace it"
    )


def verify_model(spec: ModelSpec, path: Path) -> str:
    """Check a bare model file and return its sha256.

    The file is checked against ``spec.sha256`` when known, else against its
    sidecar; a file with neither is checked against the npm package's chunk
    hashes (npm sources) or parsed as ONNX once, then (if it is in the cache)
    given a sidecar.

    Raises
    ------
    ModelIntegrityError
        The file is empty, fails its checksum or does not parse; the message
        says to delete and refetch it.

    """
    if not path.is_file():
        raise ModelNotFoundError(f"{spec.key}: model file {path} does not exist")
    if path.stat().st_size == 0:
        raise ModelIntegrityError(f"{path} is empty; {_fix_hint(spec, path)}")
    side = read_sidecar(path)
    expected = spec.sha256 or (side or {}).get("sha256")
    if expected:
        got = sha256_file(path)
        if got != expected:
            raise ModelIntegrityError(
                f"{path} is corrupt or truncated: sha256 {got[:12]}… != expected "
                f"{expected[:12]}…; {_fix_hint(spec, path)}"
            )
        return got
    npm = next((s for s in spec.sources if isinstance(s, NpmSource)), None)
    if npm is not None:
        pkg = find_package(npm.package, npm.version)
        if pkg is not None:
            try:
                got = verify_assembled(pkg, npm.resource, path)
            except ModelIntegrityError as exc:
                raise ModelIntegrityError(f"{exc}; {_fix_hint(spec, path)}") from exc
            write_sidecar(path, got, spec=spec.key, note="verified against the npm chunks")
            return got
    if known_sha256(path) is None:
        try:
            load_checked(path)
        except ModelIntegrityError as exc:
            raise ModelIntegrityError(
                f"{path} is not a valid ONNX model; {_fix_hint(spec, path)}"
            ) from exc
    got = sha256_file(path)
    if path.is_relative_to(cache_dir()):
        write_sidecar(path, got, spec=spec.key, note="recorded on first verified load")
    return got


def save_atomic(model: onnx.ModelProto, dest: Path) -> Path:
    """Write ``model`` to ``dest`` through a temporary file, so no partial file gets the name."""
    with atomic_path(dest) as tmp:
        onnx.save(model, str(tmp))
    return dest
