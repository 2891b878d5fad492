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
from dataclasses import dataclass
from pathlib import Path

from segmentation.config import OFFLINE_ENV, cache_dir, node_modules_dirs, offline
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.models.progress import Progress


@dataclass(frozen=True)
class Chunk:
    """One piece of a resource: its sha256 and byte range ``[start, end)``."""

    sha256: str
    start: int
    end: int


def installed_version(package_dir: Path) -> str | None:
    """Return the ``version`` in an installed package's ``package.json`` (None if unreadable)."""
    try:
        version = json.loads((package_dir / "package.json").read_text()).get("version")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def find_package(package: str, version: str | None = None) -> Path | None:
    """Return the folder of an installed npm package (of ``version`` if given), or None."""
    for base in node_modules_dirs():
        candidate = base / package
        if not (candidate / "package.json").is_file():
            continue
        if version is None or installed_version(candidate) == version:
            return candidate
    return None


def install_command(package: str, version: str) -> str:
    """Return the shell command that installs ``package`` where :func:`find_package` looks."""
    return f"npm install --prefix {cache_dir() / 'npm'} {package}@{version}"


def install_hint(package: str, version: str) -> str:
    """Return a sentence telling how to install ``package``."""
    return (
        f"install it with `{install_command(package, version)}` "
        "(or run `python -m segmentation fetch`)"
    )


def npm_install(package: str, version: str) -> Path:
    """Install ``package@version`` into the cache's npm folder with the npm client."""
    if offline():
        raise ModelNotFoundError(
            f"{package} is not installed and ${OFFLINE_ENV} forbids installing it"
        )
    npm = shutil.which("npm")
    if npm is None:
        raise ModelNotFoundError(f"npm is not installed, so {package} cannot be installed")
    prefix = cache_dir() / "npm"
    prefix.mkdir(parents=True, exist_ok=True)
    spec = f"{package}@{version}"
    cmd = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), spec]
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
        raise ModelIntegrityError(f"cannot read {index}: {exc}; reinstall the package") from exc
    if resource not in table:
        raise ModelNotFoundError(
            f"{index} has no resource {resource!r}; it has: {', '.join(sorted(table))}"
        )
    entry = table[resource]
    try:
        chunks = [
            Chunk(c.get("hash") or c["name"], int(c["offsets"][0]), int(c["offsets"][1]))
            for c in entry["chunks"]
        ]
        return chunks, int(entry["size"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelIntegrityError(f"{index}: malformed entry for {resource!r}: {exc!r}") from exc


def check_tiling(resource: str, chunks: list[Chunk], size: int) -> list[Chunk]:
    """Return ``chunks`` sorted by offset, checking that they tile ``[0, size)`` exactly."""
    ordered = sorted(chunks, key=lambda c: c.start)
    expected = 0
    for c in ordered:
        if c.start != expected:
            raise ModelIntegrityError(f"{resource}: chunks leave a gap at byte {expected}")
        expected = min(c.end, size)
    if expected != size:
        raise ModelIntegrityError(f"{resource}: chunks cover {expected} of {size} bytes")
    return ordered


def _read_chunk(package_dir: Path, resource: str, c: Chunk, size: int) -> bytes:
    path = package_dir / "dist" / c.sha256
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(
            f"{resource}: chunk {path} is missing ({exc.strerror}); reinstall the package"
        ) from exc
    want = min(c.end, size) - c.start
    if len(data) != want:
        raise ModelIntegrityError(
            f"{resource}: chunk {path} has {len(data)} bytes, expected {want} "
            "(truncated or corrupt); reinstall the package"
        )
    if hashlib.sha256(data).hexdigest() != c.sha256:
        raise ModelIntegrityError(
            f"{resource}: chunk {path} fails its sha256 (corrupt); reinstall the package"
        )
    return data


def assemble(package_dir: Path, resource: str, dest: Path, progress: Progress | None = None) -> str:
    """Verify every chunk of ``resource`` and write the joined file to ``dest`` atomically.

    Parameters
    ----------
    package_dir : Path
        The installed npm package (holds ``dist/resources.json``).
    resource : str
        Key in ``resources.json``, e.g. ``"/models/medium"``.
    dest : Path
        Final path; written through a temporary file and renamed when complete.
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)`` after each chunk.

    Returns
    -------
    str
        sha256 of the assembled file (computed while writing).

    Raises
    ------
    ModelIntegrityError
        A chunk is missing, has the wrong size, or fails its sha256 (the message
        names the chunk file); or the chunks do not tile the declared size.

    """
    chunks, size = read_chunks(package_dir, resource)
    ordered = check_tiling(resource, chunks, size)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.part{os.getpid()}")
    whole = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for c in ordered:
                data = _read_chunk(package_dir, resource, c, size)
                out.write(data)
                whole.update(data)
                done += len(data)
                if progress is not None:
                    progress(done, size)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return whole.hexdigest()


def verify_assembled(package_dir: Path, resource: str, path: Path) -> str:
    """Check an assembled file against the package's chunk hashes; return its sha256.

    Raises
    ------
    ModelIntegrityError
        The file's size differs from the resource's, or a byte range differs
        from its chunk (the message names the chunk).

    """
    chunks, size = read_chunks(package_dir, resource)
    ordered = check_tiling(resource, chunks, size)
    actual = path.stat().st_size
    if actual != size:
        raise ModelIntegrityError(f"{path} has {actual} bytes but {resource} has {size}")
    whole = hashlib.sha256()
    with path.open("rb") as f:
        for c in ordered:
            data = f.read(min(c.end, size) - c.start)
            whole.update(data)
            if hashlib.sha256(data).hexdigest() != c.sha256:
                raise ModelIntegrityError(
                    f"{path}: bytes {c.start}-{c.end} differ from chunk {c.sha256} of {resource}"
                )
    return whole.hexdigest()
