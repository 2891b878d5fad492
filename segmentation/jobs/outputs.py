"""Where a job writes, and how: planned names, never over an input, atomic PNG files.

:func:`plan_outputs` gives every source its output name(s) in the output folder
(``<stem>.png``, or ``<stem>.mask.png`` for masks; a stem met again gets
``-1``, ``-2``...), in input order so a re-run plans the same names.
:func:`refuse_overwriting_inputs` stops the job before any work if an output
path is an input (same path, same file through a link). :func:`write_png`
encodes in memory and writes through :func:`segmentation.files.atomic_path`:
the final name appears only complete, and a failed write (disk full, a folder
in the way) leaves whatever was there before and raises :class:`OutputError`
naming the file. :func:`remove_stale_temps` deletes the temporary files a
killed process left behind.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image

from segmentation.errors import SegmentationError
from segmentation.files import atomic_path, sha256_file

CUTOUT_SUFFIX = ".png"
MASK_SUFFIX = ".mask.png"
_TEMP_SUFFIX = ".part"  # atomic_path's temporary files: ".<name>.<random>.part"


class OutputError(SegmentationError):
    """An output could not be written; the message names the file and the reason."""


def plan_outputs(
    sources: Sequence[str], out_dir: Path, mask_only: bool, suffix: str | None = None
) -> list[tuple[str, ...]]:
    """Return the absolute output path(s) of each source, in order, all distinct.

    ``suffix`` replaces the cut-out's ``.png`` (a product photo's ``.jpg``, ``.webp``).
    """
    suffix = MASK_SUFFIX if mask_only else (suffix or CUTOUT_SUFFIX)
    folder = Path(os.path.abspath(out_dir))
    used: set[str] = set()
    plans: list[tuple[str, ...]] = []
    for src in sources:
        stem = Path(src).stem
        candidate, n = str(folder / f"{stem}{suffix}"), 1
        while candidate in used:
            candidate, n = str(folder / f"{stem}-{n}{suffix}"), n + 1
        used.add(candidate)
        plans.append((candidate,))
    return plans


def refuse_overwriting_inputs(
    sources: Sequence[str], outputs: Iterable[str], what: str = "output"
) -> None:
    """Raise :class:`SegmentationError` if any of ``outputs`` is one of ``sources``.

    Paths are compared after resolving links, and an existing output is also
    compared by device and inode with the inputs (a hard link is the same file).
    """
    real = {os.path.realpath(s): s for s in sources}
    inodes: dict[tuple[int, int], str] | None = None
    for dest in outputs:
        hit = real.get(os.path.realpath(dest))
        if hit is None and os.path.exists(dest):
            if inodes is None:
                inodes = {}
                for s in sources:
                    try:
                        st = os.stat(s)
                    except OSError:
                        continue
                    inodes[(st.st_dev, st.st_ino)] = s
            st = os.stat(dest)
            hit = inodes.get((st.st_dev, st.st_ino))
        if hit is not None:
            raise SegmentationError(
                f"refusing to write over an input: {what} {dest} would replace {hit}; "
                "choose another output folder"
            )


def write_png(image: Image.Image, dest: str | os.PathLike[str]) -> str:
    """Write ``image`` as PNG to ``dest`` atomically and return the file's sha256.

    Raises
    ------
    OutputError
        The file could not be written (no space, no permission, a folder in the
        way...); ``dest`` is then as it was before.

    """
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return write_bytes(buf.getvalue(), dest)


def write_bytes(data: bytes, dest: str | os.PathLike[str]) -> str:
    """Write an encoded file to ``dest`` atomically and return its sha256 (see :func:`write_png`).

    Raises
    ------
    OutputError
        The file could not be written; ``dest`` is then as it was before.

    """
    try:
        with atomic_path(dest) as tmp, tmp.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OutputError(f"{dest}: cannot write ({reason})") from None
    return hashlib.sha256(data).hexdigest()


def outputs_intact(outputs: Sequence[str], sha256s: Sequence[str]) -> bool:
    """Whether every output is a regular file whose sha256 is the one recorded."""
    if len(outputs) != len(sha256s):
        return False
    for path, expected in zip(outputs, sha256s, strict=True):
        p = Path(path)
        try:
            if not p.is_file() or sha256_file(p) != expected:
                return False
        except OSError:
            return False
    return True


def existing_outputs(outputs: Sequence[str]) -> list[str]:
    """Return the outputs that exist as regular files (a folder in the way is not one)."""
    return [p for p in outputs if os.path.isfile(p)]


def remove_stale_temps(outputs: Iterable[str]) -> int:
    """Delete temporary files of these outputs that a killed writer left; return how many."""
    by_folder: dict[str, set[str]] = {}
    for path in outputs:
        folder, name = os.path.split(path)
        by_folder.setdefault(folder, set()).add(name)
    removed = 0
    for folder, names in by_folder.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not (name.startswith(".") and name.endswith(_TEMP_SUFFIX)):
                continue
            final = name[1 : -len(_TEMP_SUFFIX)].rpartition(".")[0]
            if final in names and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                    removed += 1
                except OSError:
                    continue
    return removed
