"""The job's manifest: one JSON line per image saying what happened to it.

A row records the source (absolute path) and its sha256, the output path(s)
and their sha256, the status, the error, the seconds spent, the worker that
did it, the model and a digest of the settings that shape the output. Rows are
appended as results arrive, so an interrupted run keeps what it finished; a
re-run reads the file back (the last row of a source and output list wins, a
torn last line is ignored) and skips the images whose row is still true.

Statuses: ``done`` (written in this run), ``skipped`` (the row of an earlier run
is still true: same source sha256, same settings, outputs present with their
recorded sha256), ``kept`` (an output already existed that no row vouched for:
left alone, as ``overwrite=False`` asks) and ``failed`` (``error`` says why).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from segmentation.errors import SegmentationError
from segmentation.files import atomic_path

Status = Literal["done", "skipped", "kept", "failed"]
STATUSES: tuple[str, ...] = ("done", "skipped", "kept", "failed")
#: Statuses whose outputs are complete on disk.
COMPLETE: tuple[str, ...] = ("done", "skipped", "kept")

#: File name of the manifest inside the output folder, unless another path is given.
MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True)
class ManifestRow:
    """What happened to one image.

    Attributes
    ----------
    source : str
        Absolute path of the input image.
    sha256 : str or None
        sha256 of the source as read (None if it could not be read).
    outputs : tuple of str
        Absolute paths of the output file(s) planned for this image.
    status : str
        ``done``, ``skipped``, ``kept`` or ``failed``.
    error : str or None
        One line saying why the image failed, None otherwise.
    seconds : float
        Wall time its worker spent on the image: hash, decode, model, encode, write
        (opening the model, once per worker, is not counted).
    worker : str
        Who did it: a Dask worker address, or ``host:pid`` of a local process.
    model : str
        The model as ``name:precision``.
    settings : str
        Digest of what shapes the output bytes (model file, mask-only, background,
        the product preset's resolved values).
    output_sha256 : tuple of str
        sha256 of each output once complete (empty when failed).
    preset : str
        The product-photo preset's name, or empty for a plain cut-out.

    """

    source: str
    sha256: str | None
    outputs: tuple[str, ...]
    status: Status
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""
    model: str = ""
    settings: str = ""
    output_sha256: tuple[str, ...] = field(default=())
    preset: str = ""

    @property
    def ok(self) -> bool:
        """True unless the image failed."""
        return self.status != "failed"

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """What identifies the image's work across runs: its source and its outputs."""
        return (self.source, self.outputs)

    def to_json(self) -> str:
        """One line of JSON (no newline)."""
        data = asdict(self)
        data["outputs"] = list(self.outputs)
        data["output_sha256"] = list(self.output_sha256)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestRow:
        """Rebuild a row from :meth:`to_json`'s object; ValueError if it is not one."""
        try:
            status = data["status"]
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            sha = data["sha256"]
            return cls(
                source=str(data["source"]),
                sha256=None if sha is None else str(sha),
                outputs=tuple(str(p) for p in data["outputs"]),
                status=status,
                error=None if data.get("error") is None else str(data["error"]),
                seconds=float(data.get("seconds", 0.0)),
                worker=str(data.get("worker", "")),
                model=str(data.get("model", "")),
                settings=str(data.get("settings", "")),
                output_sha256=tuple(str(s) for s in data.get("output_sha256", ())),
                preset=str(data.get("preset", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a manifest row ({exc})") from None


def iter_rows(path: Path) -> Iterator[ManifestRow]:
    """Yield the rows of a manifest file in order, skipping lines that are not rows.

    A run killed while appending leaves a torn last line; an edited file may hold
    anything. Such lines are skipped: the images they described are simply done
    again.
    """
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.endswith("\n"):
                return  # torn last line
            try:
                data = json.loads(line)
                if isinstance(data, dict):
                    yield ManifestRow.from_dict(data)
            except ValueError:
                continue


def read_manifest(path: Path) -> dict[tuple[str, tuple[str, ...]], ManifestRow]:
    """Return the latest row per (source, outputs) of a manifest; empty if there is none."""
    if not path.is_file():
        return {}
    latest: dict[tuple[str, tuple[str, ...]], ManifestRow] = {}
    for row in iter_rows(path):
        latest.pop(row.key, None)
        latest[row.key] = row  # re-inserted: the dict keeps the order of last writes
    return latest


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> None:
    """Replace the manifest with ``rows``, atomically (a crash leaves the old file)."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(row.to_json() + "\n")


class ManifestWriter:
    """Append rows to a manifest as they arrive, each flushed to the OS at once.

    The file is compacted first (one row per source and outputs, written
    atomically), so repeated runs do not grow it without bound.
    """

    def __init__(self, path: Path, previous: dict[tuple[str, tuple[str, ...]], ManifestRow]):
        self.path = path
        if path.exists():
            if not path.is_file():
                raise SegmentationError(f"manifest {path} exists and is not a regular file")
            if not previous and path.stat().st_size > 0:
                raise SegmentationError(
                    f"{path} exists and holds no manifest rows; it is left alone: "
                    "give another manifest path"
                )
        try:
            if path.exists():
                write_manifest(path, previous.values())
            self._file: TextIO | None = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: OSError) -> SegmentationError:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return SegmentationError(
            f"manifest {self.path}: cannot write ({reason}); the outputs written so far are "
            "complete: fix this and run the job again to do the rest"
        )

    def append(self, rows: Iterable[ManifestRow]) -> None:
        """Write ``rows`` (one line each) and flush; a failed write stops the job, named."""
        if self._file is None:
            raise ValueError(f"manifest {self.path} is closed")
        try:
            self._file.write("".join(row.to_json() + "\n" for row in rows))
            self._file.flush()
        except OSError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        """Flush to disk and close (idempotent); a failure is named like :meth:`append`'s."""
        if self._file is None:
            return
        file, self._file = self._file, None
        error: SegmentationError | None = None
        try:
            file.flush()
            os.fsync(file.fileno())
        except OSError as exc:
            error = self._error(exc)
        try:
            file.close()
        except OSError as exc:  # the buffer a failed flush kept
            error = error or self._error(exc)
        if error is not None:
            raise error

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            self.close()
        except SegmentationError:
            if kind is None:
                raise  # else the error already on its way says what happened
