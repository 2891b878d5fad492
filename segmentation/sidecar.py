"""Content checks for cached files: sha256 (remembered per process) and JSON sidecars.

Every file the store writes to the cache gets ``<file>.json`` beside it,
recording its sha256, size and origin, so later damage is detected on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

#: sha256 of files already hashed in this process, keyed by (path, size, mtime).
_HASHED: dict[tuple[str, int, int], str] = {}


def stat_key(path: Path) -> tuple[str, int, int]:
    """Identify a file's current content cheaply: resolved path, size, mtime."""
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in blocks; remembered while the file is unchanged."""
    key = stat_key(path)
    if key in _HASHED:
        return _HASHED[key]
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    _HASHED[key] = h.hexdigest()
    return _HASHED[key]


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


def is_hashed(key: tuple[str, int, int]) -> bool:
    """Whether a file with this :func:`stat_key` was already hashed in this process."""
    return key in _HASHED
