"""What a job reads: image files, folders of images, and list files naming images.

:func:`expand_inputs` turns what the user gave into absolute paths, in order,
each once: a file is taken as is (a bad one fails as that image's error, not
the job's); a folder gives the images directly inside it, sorted by name
(hidden files such as ``.a.png.xyz.part`` left out, and the outputs an earlier
run of the job recorded, so a folder used as input and output is not read
back); a ``.txt`` or ``.lst`` file is a list of paths, one per line (blank
lines and lines starting with ``#`` ignored, relative paths taken from the
list's folder, not from the current one), each entry a file or folder as above.
:func:`as_paths` checks what the caller gave first: ``str``, ``bytes`` (any name
the OS allows, e.g. one that is not UTF-8) or ``os.PathLike``, at least one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from segmentation.errors import SegmentationError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
#: Suffixes of list files: one image path per line.
LIST_SUFFIXES = frozenset({".txt", ".lst"})

PathArg = str | os.PathLike[str]


def as_paths(inputs: object) -> list[str]:
    """Return the inputs as ``str`` paths: one path, or an iterable of them.

    Raises
    ------
    TypeError
        An input (or ``inputs`` itself) is not a path; the message says which.
    SegmentationError
        No inputs, or an empty path.

    """
    if isinstance(inputs, str | bytes | os.PathLike):
        items: list[object] = [inputs]
    else:
        try:
            items = list(inputs)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(
                f"inputs must be a path or an iterable of paths, got a {type(inputs).__name__}"
            ) from None
    if not items:
        raise SegmentationError(
            "no inputs given: pass image files, folders or .txt/.lst files listing paths"
        )
    paths = []
    for i, item in enumerate(items):
        if not isinstance(item, str | bytes | os.PathLike):
            raise TypeError(
                f"inputs[{i}] is {item!r}, not a path: give str, bytes or os.PathLike paths"
            )
        path = os.fsdecode(os.fspath(item))
        if not path or "\x00" in path:
            what = "empty" if not path else "holds a NUL character"
            raise SegmentationError(f"inputs[{i}] is not a usable path ({what})")
        paths.append(path)
    return paths


def folder_images(folder: Path, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Absolute paths of the images directly inside ``folder``, sorted, minus ``exclude``."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise SegmentationError(
            f"{folder}: cannot list the folder ({exc.strerror or exc})"
        ) from None
    found = []
    for p in entries:
        if p.name.startswith(".") or p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        path = os.path.abspath(p)
        if path not in exclude:
            found.append(path)
    return found


def read_list(path: Path) -> list[str]:
    """Return the entries of a list file, relative ones resolved against the list's folder."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SegmentationError(f"input list {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SegmentationError(f"input list {path}: cannot be read ({exc})") from None
    base = path.parent
    entries = []
    for line in text.splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        entry = Path(item).expanduser()
        entries.append(os.path.abspath(entry if entry.is_absolute() else base / entry))
    return entries


def expand_inputs(inputs: Iterable[PathArg], exclude: Iterable[str] = ()) -> list[str]:
    """Return the absolute paths of the images to process, in order, without repeats.

    Parameters
    ----------
    inputs : iterable of path-like
        Image files, folders, and list files (``.txt``/``.lst``).
    exclude : iterable of str
        Absolute paths that folders must not yield (a job's own earlier outputs).

    Raises
    ------
    SegmentationError
        A list file is missing or unreadable, or a folder cannot be listed.

    """
    skip = frozenset(exclude)
    out: list[str] = []
    seen: set[str] = set()

    def add(paths: Sequence[str]) -> None:
        for p in paths:
            if p not in seen:
                seen.add(p)
                out.append(p)

    for item in inputs:
        path = Path(os.fspath(item)).expanduser()
        if path.is_dir():
            add(folder_images(path, skip))
        elif path.suffix.lower() in LIST_SUFFIXES:
            for entry in read_list(path):
                entry_path = Path(entry)
                add(folder_images(entry_path, skip) if entry_path.is_dir() else [entry])
        else:
            add([os.path.abspath(path)])
    return out
