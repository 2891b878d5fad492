r"""The job's manifest: one JSON line per image saying what happened to it.

A row records the source (absolute path) and its sha256, the output path(s)
and their sha256, the status, the error, the seconds spent, the worker that
did it, the model and a digest of the settings that shape the output. Rows are
appended as results arrive, so an interrupted run keeps what it finished; a
re-run reads the file back (the last row of a source and output list wins, a
torn last line is ignored) and skips the images whose row is still true.

Statuses: ``done`` (written in this run), ``skipped`` (the row of an earlier run
is still true: same source sha256, same settings, outputs present with their
recorded sha256), ``kept`` (an output already existed that no row vouched for:
left alone, as ``overwrite=False`` asks; a ``kept`` row never vouches for the
file later, so the next run says ``kept`` again) and ``failed`` (``error`` says
why).

Any name the OS allows is recorded: a path that is not valid UTF-8 (or holds a
control character) is written in its readable form (``\xff`` for a byte that
is not UTF-8) with its exact bytes in ``source_b64`` / ``outputs_b64``
(:mod:`segmentation.jobs.names`), which a re-run reads back. A row that still
cannot be recorded becomes that image's failure; the job goes on.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TextIO

from segmentation.errors import SegmentationError
from segmentation.files import atomic_path
from segmentation.jobs.names import display, path_from_json, path_to_json

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
        """One line of JSON (no newline), valid UTF-8 whatever the file names hold."""
        data = asdict(self)
        data["source"], source_b64 = path_to_json(self.source)
        outputs = [path_to_json(p) for p in self.outputs]
        data["outputs"] = [text for text, _ in outputs]
        data["output_sha256"] = list(self.output_sha256)
        for key in ("error", "worker", "model", "settings"):
            if isinstance(data[key], str):
                data[key] = display(data[key])
        if source_b64 is not None:
            data["source_b64"] = source_b64
        if any(b64 is not None for _, b64 in outputs):
            data["outputs_b64"] = [b64 for _, b64 in outputs]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestRow:
        """Rebuild a row from :meth:`to_json`'s object; ValueError if it is not one."""
        try:
            status = data["status"]
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            sha = data["sha256"]
            outputs = data["outputs"]
            outputs_b64 = data.get("outputs_b64") or [None] * len(outputs)
            if not isinstance(outputs, list) or len(outputs_b64) != len(outputs):
                raise ValueError("outputs and outputs_b64 do not match")
            return cls(
                source=path_from_json(data["source"], data.get("source_b64")),
                sha256=None if sha is None else str(sha),
                outputs=tuple(
                    path_from_json(p, b) for p, b in zip(outputs, outputs_b64, strict=True)
                ),
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


def _recordable(row: ManifestRow) -> tuple[ManifestRow, str]:
    """Return ``row`` and its line, or a ``failed`` row saying why it cannot be recorded."""
    try:
        return row, row.to_json()
    except (ValueError, TypeError) as exc:  # to_json handles every name: this is a last resort
        failed = replace(
            row,
            status="failed",
            error=f"{display(row.source)}: cannot be recorded in the manifest ({exc})",
            output_sha256=(),
        )
        safe = replace(
            failed,
            source=display(row.source),
            outputs=tuple(display(p) for p in row.outputs),
            seconds=failed.seconds if math.isfinite(failed.seconds) else 0.0,
        )
        return failed, safe.to_json()


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
            f.write(_recordable(row)[1] + "\n")


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

    def append(self, rows: Iterable[ManifestRow]) -> list[ManifestRow]:
        """Write ``rows`` (one line each) and flush; return them as recorded.

        A row that cannot be turned into a line is recorded as that image's
        failure (and returned so); a failed write stops the job, named.
        """
        if self._file is None:
            raise ValueError(f"manifest {self.path} is closed")
        recorded = [_recordable(row) for row in rows]
        try:
            self._file.write("".join(line + "\n" for _, line in recorded))
            self._file.flush()
        except OSError as exc:
            raise self._error(exc) from None
        return [row for row, _ in recorded]

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
