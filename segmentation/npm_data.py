"""Assemble models from an npm data package of sha256-named chunks.

``@imgly/background-removal-data`` ships each resource as 4 MiB chunks named by
their sha256 in ``dist/``, and ``dist/resources.json`` maps a resource (for
instance ``/models/medium``) to its chunks, byte offsets and total size. Every
chunk is verified before the file is written, and the file is written
atomically, so a half-assembled model never lands in the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segmentation.config import cache_dir, node_modules_dirs
from segmentation.errors import ModelIntegrityError, ModelNotFoundError

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Chunk:
    """One piece of a resource: its sha256 and byte range ``[start, end)``."""

    sha256: str
    start: int
    end: int


def find_package(package: str) -> Path | None:
    """Return the folder of an installed npm package, or None."""
    for base in node_modules_dirs():
        candidate = base / package
        if (candidate / "package.json").is_file():
            return candidate
    return None


def install_hint(package: str, version: str) -> str:
    """The command that installs ``package`` where :func:`find_package` looks."""
    return (
        f"install it with `npm install --prefix {cache_dir() / 'npm'} {package}@{version}` "
        f"(or `python -m segmentation fetch`)"
    )


def npm_install(package: str, version: str) -> Path:
    """Install ``package@version`` into the cache's npm folder with the npm client."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelNotFoundError(f"npm is not installed, so {package} cannot be installed")
    prefix = cache_dir() / "npm"
    prefix.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"{package}@{version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ModelNotFoundError(f"`{' '.join(cmd)}` failed: {' | '.join(tail)}")
    found = prefix / "node_modules" / package
    if not (found / "package.json").is_file():
        raise ModelNotFoundError(f"npm reported success but {found} is missing")
    return found


def read_chunks(package_dir: Path, resource: str) -> tuple[list[Chunk], int]:
    """Read the chunk list and total size of ``resource`` from ``resources.json``."""
    index = package_dir / "dist" / "resources.json"
    try:
        table = json.loads(index.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(f"cannot read {index}: {exc}") from exc
    if resource not in table:
        raise ModelNotFoundError(
            f"{index} has no resource {resource!r}; it has: {', '.join(sorted(table))}"
        )
    entry = table[resource]
    chunks = [
        Chunk(c.get("hash") or c["name"], int(c["offsets"][0]), int(c["offsets"][1]))
        for c in entry["chunks"]
    ]
    return chunks, int(entry["size"])


def assemble(
    package_dir: Path, resource: str, dest: Path, progress: Progress | None = None
) -> Path:
    """Verify every chunk of ``resource`` and write the joined file to ``dest``.

    Raises
    ------
    ModelIntegrityError
        A chunk is missing, has the wrong size, or fails its sha256; or the
        chunks do not tile the resource's declared size.
    """
    chunks, size = read_chunks(package_dir, resource)
    expected = 0
    for c in sorted(chunks, key=lambda c: c.start):
        if c.start != expected:
            raise ModelIntegrityError(f"{resource}: chunks leave a gap at byte {expected}")
        expected = min(c.end, size)
    if expected != size:
        raise ModelIntegrityError(f"{resource}: chunks cover {expected} of {size} bytes")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".part{os.getpid()}")
    done = 0
    try:
        with tmp.open("wb") as out:
            for c in sorted(chunks, key=lambda c: c.start):
                path = package_dir / "dist" / c.sha256
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise ModelIntegrityError(f"{resource}: chunk {path.name} missing") from exc
                want = min(c.end, size) - c.start
                if len(data) != want:
                    raise ModelIntegrityError(
                        f"{resource}: chunk {path.name} has {len(data)} bytes, expected {want}"
                    )
                if hashlib.sha256(data).hexdigest() != c.sha256:
                    raise ModelIntegrityError(f"{resource}: chunk {path.name} fails its sha256")
                out.write(data)
                done += len(data)
                if progress is not None:
                    progress(done, size)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
