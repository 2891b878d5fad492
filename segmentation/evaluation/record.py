"""A results file: a benchmark's rows with the machine, versions, date and command that made them.

``python -m segmentation bench ... --record notebooks/results/NAME.json`` writes one;
the notebooks and scripts/results_tables.py read them with :func:`read_record`. The file holds
numbers and image *names* only (stems of the dataset files), never pixels or
masks from the datasets. It is written atomically: an interrupted run leaves the
previous file as it was.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from segmentation.files import atomic_path

#: Bump when the layout of the file changes.
RECORD_VERSION = 1
_PACKAGES = ("pixel-liberation", "onnxruntime", "onnx", "numpy", "pillow", "pysodmetrics")


@dataclass(frozen=True)
class Record:
    """A results file as read back: its metadata, summary rows and per-image rows."""

    meta: dict[str, Any]
    summary: list[dict[str, Any]]
    images: list[dict[str, Any]]

    def dataframe(self, per_image: bool = False) -> Any:
        """Return the rows as a pandas DataFrame (pandas must be installed)."""
        import pandas as pd

        return pd.DataFrame(self.images if per_image else self.summary)


def machine() -> dict[str, Any]:
    """Describe what the numbers depend on: CPU, cores, memory, OS, and the load average now."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gb,
        "os": platform.platform(),
        "load_average": _load(),
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def versions(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Python, the installed packages that compute the numbers, onnxruntime-web, and ``extra``."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    web = _ort_web_version()
    if web:
        out["onnxruntime-web"] = web
    return {**out, **(extra or {})}


def _ort_web_version() -> str | None:
    lock = Path(__file__).resolve().parents[2] / "js" / "package.json"
    try:
        deps = json.loads(lock.read_text()).get("dependencies", {})
    except (OSError, ValueError):
        return None
    value = deps.get("onnxruntime-web")
    return str(value) if value else None


def git_commit(folder: Path | None = None) -> str | None:
    """Return the checkout's commit (``+dirty`` if tracked files changed); None outside git."""
    where = folder or Path(__file__).resolve().parents[2]
    try:

        def git(*args: str) -> str:
            out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True,
                                 timeout=10, check=True)  # fmt: skip
            return out.stdout.strip()

        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def command_line(argv: Sequence[str] | None = None) -> str:
    """Return the command as a user would type it again: ``python -m segmentation bench ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    return "python -m segmentation " + shlex.join(args)


def write_record(
    path: Path,
    summary: Sequence[dict[str, Any]],
    images: Sequence[dict[str, Any]],
    meta: dict[str, Any],
) -> Path:
    """Write a results file atomically; ``meta`` gets the version, date and end load added.

    Parameters
    ----------
    path : Path
        The ``.json`` file to (re)place.
    summary, images : sequence of dict
        The benchmark's rows (:class:`~segmentation.evaluation.runner.BenchResult`).
    meta : dict
        At least ``command``; usually also ``machine``, ``versions``, ``started``.

    """
    if "command" not in meta:
        raise ValueError("a results file needs the command that made it (meta['command'])")
    body = {
        "record_version": RECORD_VERSION,
        "meta": {
            **meta,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_end": _load(),
        },
        "summary": list(summary),
        "images": list(images),
    }
    text = json.dumps(_finite(body), indent=1, allow_nan=False, default=_plain)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
    return path


def _finite(value: Any) -> Any:
    """NaN and infinities (a metric undefined on a blank mask) become null: JSON has none."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        return _finite(value.item())
    return value


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a results file")


def read_record(path: str | os.PathLike[str]) -> Record:
    """Read a results file; one clear error if it is not one (or of another layout version)."""
    p = Path(path)
    try:
        body = json.loads(p.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no results file at {p}") from None
    except ValueError as exc:
        raise ValueError(f"{p} is not a results file: {exc}") from None
    if not isinstance(body, dict) or body.get("record_version") != RECORD_VERSION:
        found = body.get("record_version") if isinstance(body, dict) else None
        raise ValueError(f"{p}: results file version {found!r}, expected {RECORD_VERSION}")
    for key, kind in (("meta", dict), ("summary", list), ("images", list)):
        if not isinstance(body.get(key), kind):
            raise ValueError(f"{p}: results file without a valid {key!r}")
    return Record(body["meta"], body["summary"], body["images"])
