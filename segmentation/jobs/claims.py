"""Outputs a run may create, written down before it creates any: what a dead run left behind.

A worker can finish an output that its job never records: the job's process was
killed (its workers end with it, but one may be past its write), Ctrl+C came
between a write and its manifest row, or a Dask task went on after the client
left. Such a file is never trusted. Before its first batch, a run writes the
outputs that did not exist when it planned them to ``.<manifest name>.claims``
beside the manifest (atomically, JSON Lines, names stored like the manifest's);
a run that records every image deletes the file. :func:`remove_unrecorded`
deletes every claimed output that exists and that no complete manifest row
lists: the job calls it after Ctrl+C (once its pool has ended) and when the next
run starts (holding the job's lock), whose images are then done again like any
other.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from segmentation.files import atomic_path
from segmentation.jobs.manifest import COMPLETE, read_manifest
from segmentation.jobs.names import path_from_json, path_to_json


def claims_path(manifest: Path) -> Path:
    """``.<manifest name>.claims`` beside the manifest."""
    return manifest.parent / f".{manifest.name}.claims"


def write_claims(manifest: Path, outputs: Iterable[str]) -> None:
    """Record, atomically, the outputs this run may create (replacing an older record)."""
    with atomic_path(claims_path(manifest)) as tmp, tmp.open("w", encoding="utf-8") as f:
        for path in outputs:
            text, b64 = path_to_json(path)
            f.write(json.dumps({"path": text, "path_b64": b64}, ensure_ascii=False) + "\n")


def read_claims(manifest: Path) -> list[str]:
    """Return the outputs a run that did not finish may have created (empty: none recorded)."""
    try:
        lines = claims_path(manifest).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    paths = []
    for line in lines:
        try:
            data = json.loads(line)
            paths.append(path_from_json(data["path"], data.get("path_b64")))
        except (ValueError, KeyError, TypeError):
            continue  # a damaged line: that file is simply not removed
    return paths


def clear_claims(manifest: Path) -> None:
    """Forget the claims: every image of the run has its row."""
    claims_path(manifest).unlink(missing_ok=True)


def remove_unrecorded(manifest: Path) -> list[str]:
    """Delete the claimed outputs that no complete row of the manifest lists; return them.

    Only regular files are deleted (a link or a folder put there is not an output).
    The manifest is read only when there are claims.
    """
    claims = read_claims(manifest)
    if not claims:
        return []
    rows = read_manifest(manifest).values()
    recorded = {p for row in rows if row.status in COMPLETE for p in row.outputs}
    removed = []
    for path in claims:
        if path in recorded:
            continue
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    return removed
