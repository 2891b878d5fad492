"""Files on disk: written so that no reader sees half of one, and hashed once while unchanged.

:func:`atomic_path` hands out a temporary path in the destination's own folder
(so the final :func:`os.replace` is a rename on one file system, atomic on
POSIX and Windows); the destination appears only once the writer has finished,
and an error, a full disk or Ctrl+C leaves the previous file, if any, untouched
and no temporary file behind. :func:`sha256_file` remembers each file's hash
while its path, size and modification time stay the same.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HASHED: dict[tuple[str, int, int], str] = {}


@contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it to ``dest`` when the block succeeds.

    Parameters
    ----------
    dest : path-like
        The final file. Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        Where to write. It does not exist yet (writers that refuse existing files work).

    """
    final = Path(dest)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


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


def known_sha256(path: Path) -> str | None:
    """Return the sha256 :func:`sha256_file` already computed for ``path`` as it is now, or None."""
    return _HASHED.get(stat_key(path))
