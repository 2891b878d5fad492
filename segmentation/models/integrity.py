"""Integrity of model files: sha256 (remembered per process), JSON sidecars, verification.

The truth about a model file is its source: the catalog's sha256, the chunk
hashes of its npm package, the checksum of its download. Every file the store
writes to the cache gets ``<file>.json`` beside it, recording the sha256 it had
when it was verified (or derived from a verified file): a cache of that check,
so later damage is caught on load by :func:`verify_model` and the source need
not be consulted every time. A missing or unreadable sidecar is never replaced
by the hash of whatever file is there: the file is checked against its source
again, or, where nothing can vouch for it (a derived file), reported as
unverified so that :func:`segmentation.store.ensure_model` derives it again.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import onnx

from segmentation.errors import ModelIntegrityError, ModelNotFoundError, UnverifiedModelError
from segmentation.files import atomic_path, known_sha256, sha256_file
from segmentation.models.npm_package import find_package, verify_assembled
from segmentation.models.registry import default_registry
from segmentation.models.spec import LocalSource, ModelSpec, NpmSource, UrlSource

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Notes of sidecars that earlier versions wrote without verifying anything (the
#: hash of whatever file was there): never trusted, the file is checked again.
UNVERIFIED_NOTES = frozenset({"recorded on first verified load"})


def sidecar_path(path: Path) -> Path:
    """Return the JSON file next to ``path`` that records its sha256 and origin."""
    return path.with_name(path.name + ".json")


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """Return the sidecar of ``path`` as a dict, or None if absent or unreadable.

    Unreadable includes a sidecar that parses but records no well-formed
    sha256 (64 lowercase hex digits).
    """
    try:
        data = json.loads(sidecar_path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    sha = data.get("sha256")
    return data if isinstance(sha, str) and _SHA256.fullmatch(sha) else None


def write_sidecar(path: Path, sha256: str, **origin: Any) -> None:
    """Record ``sha256`` (and where the file came from) next to ``path``, atomically.

    Call it only with a hash that was verified: against the file's source, or
    of a file just made from verified inputs.
    """
    payload = {"file": path.name, "sha256": sha256, "size": path.stat().st_size, **origin}
    with atomic_path(sidecar_path(path)) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))


def load_checked(path: Path) -> onnx.ModelProto:
    """Load an ONNX file, turning a parse failure into a clear error."""
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf raises several unrelated types
        raise ModelIntegrityError(
            f"{path} is not a valid ONNX model (truncated or corrupt?): {exc}; "
            f"delete it (`rm '{path}'`) and fetch it again"
        ) from exc


def fix_hint(spec: ModelSpec, path: Path) -> str:
    """Say how to replace a damaged model file: fetch it again (cache) or replace it (user's)."""
    if any(isinstance(s, LocalSource) for s in spec.sources):
        return "replace it with a good copy of your model"
    catalog = default_registry()
    if spec.key in catalog and catalog.get(spec.name, spec.precision) == spec:
        return (
            f"run `python -m segmentation fetch {spec.key}` to replace it (or delete it, "
            f"`rm '{path}'`, and it is fetched again when next needed)"
        )
    return (
        f"delete it (`rm '{path}'`) and it is fetched again when next needed, or call "
        "ensure_model(spec, repair=True)"
    )


def _corrupt(spec: ModelSpec, path: Path, got: str, expected: str, source: str) -> str:
    alg = "md5" if len(expected) == 32 else "sha256"
    return (
        f"{path} is corrupt or truncated: its {alg} is {got[:12]}…, {source} says "
        f"{expected[:12]}…; " + fix_hint(spec, path)
    )


def _check_url(spec: ModelSpec, path: Path, src: UrlSource) -> str:
    """Check ``path`` against the checksum and size of its download; return its sha256."""
    got = sha256_file(path)
    if src.size is not None and path.stat().st_size != src.size:
        raise ModelIntegrityError(
            f"{path} has {path.stat().st_size} bytes, but {src.url} has {src.size}; "
            + fix_hint(spec, path)
        )
    if src.sha256:
        if got != src.sha256:
            raise ModelIntegrityError(_corrupt(spec, path, got, src.sha256, src.url))
        return got
    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            md5.update(block)
    if src.md5 and md5.hexdigest() != src.md5:
        raise ModelIntegrityError(_corrupt(spec, path, md5.hexdigest(), src.md5, src.url))
    return got


def _check_sources(spec: ModelSpec, path: Path) -> tuple[str, str] | None:
    """Verify ``path`` against the first source that can vouch for it.

    Returns the sha256 and a note saying how it was verified, or None when no
    source can (derived files, an npm package that is not installed).
    """
    for src in spec.sources:
        if isinstance(src, UrlSource):
            return _check_url(spec, path, src), f"verified against the checksum of {src.url}"
        if isinstance(src, NpmSource):
            pkg = find_package(src.package, src.version)
            if pkg is None:
                continue
            try:
                got = verify_assembled(pkg, src.resource, path)
            except ModelIntegrityError as exc:
                raise ModelIntegrityError(f"{exc}; {fix_hint(spec, path)}") from exc
            return got, "verified against the npm chunks"
    return None


def _unverifiable_reason(spec: ModelSpec) -> str:
    npm = [s for s in spec.sources if isinstance(s, NpmSource)]
    if npm:
        return f"{npm[0].package}@{npm[0].version}, which it is checked against, is not installed"
    return "it is derived from another file and has no published checksum"


def verify_model(spec: ModelSpec, path: Path) -> str:
    """Check a bare model file against the truth about it and return its sha256.

    In order: the catalog's ``spec.sha256`` when known (the sidecar is then
    irrelevant); else a well-formed sidecar whose hash the file still has (the
    cached result of an earlier verification; never one of
    :data:`UNVERIFIED_NOTES`); else the file's source (the
    chunk hashes of an installed npm package, the checksum of a download), after
    which the sidecar is written again. A user's own file (``LocalSource``) has
    no checksum: it is parsed as ONNX once per process and gets no sidecar.

    Raises
    ------
    ModelNotFoundError
        ``path`` is not a file.
    ModelIntegrityError
        The file is empty, fails a checksum or does not parse; the message names
        the file and says how to replace it.
    UnverifiedModelError
        No sidecar (or an unreadable one, or one the file no longer matches)
        and nothing else to check it against: a derived file, or an npm file
        whose package is not installed. Nothing is recorded.

    """
    if not path.is_file():
        raise ModelNotFoundError(f"{spec.key}: model file {path} does not exist")
    if path.stat().st_size == 0:
        raise ModelIntegrityError(f"{path} is empty; {fix_hint(spec, path)}")
    if spec.sha256:
        got = sha256_file(path)
        if got != spec.sha256:
            raise ModelIntegrityError(_corrupt(spec, path, got, spec.sha256, "the catalog"))
        return got
    if any(isinstance(s, LocalSource) for s in spec.sources):
        if known_sha256(path) is None:
            try:
                load_checked(path)
            except ModelIntegrityError as exc:
                raise ModelIntegrityError(
                    f"{path} is not a valid ONNX model; {fix_hint(spec, path)}"
                ) from exc
        return sha256_file(path)
    side = read_sidecar(path)
    if side is not None and side.get("note") in UNVERIFIED_NOTES:
        side = None
    if side is not None and sha256_file(path) == side["sha256"]:
        return str(side["sha256"])
    checked = _check_sources(spec, path)
    if checked is not None:
        got, note = checked
        write_sidecar(path, got, spec=spec.key, note=note)
        return got
    if side is not None:
        raise ModelIntegrityError(
            _corrupt(spec, path, sha256_file(path), side["sha256"], "its sidecar")
        )
    raise UnverifiedModelError(
        f"{path} cannot be verified: its sidecar {sidecar_path(path).name} is missing or "
        f"unreadable and {_unverifiable_reason(spec)}"
    )


def save_atomic(model: onnx.ModelProto, dest: Path) -> Path:
    """Write ``model`` to ``dest`` through a temporary file, so no partial file gets the name."""
    with atomic_path(dest) as tmp:
        onnx.save(model, str(tmp))
    return dest
