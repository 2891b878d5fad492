"""Any file name the OS allows goes through the job and its manifest, losslessly."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from segmentation import remove_many
from segmentation.jobs.manifest import ManifestRow, ManifestWriter, read_manifest
from segmentation.jobs.names import display, path_from_json, path_to_json
from tests.conftest import TinyModel
from tests.segmentation.cli_runs import cli
from tests.tinymodel import red_square_rgba

#: A byte string no UTF-8 decoder accepts, and control characters, in real file names.
HOSTILE = [b"nonutf8_\xff\xfe.png", b"new\nline.png", b"tab\there.png", b"latin1_caf\xe9.png"]


def write_named(folder: Path, names: list[bytes]) -> list[str]:
    """Write a small red-square PNG under each raw byte name; return the ``str`` paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        path = os.path.join(os.fsencode(folder), name)
        Image.fromarray(red_square_rgba(40 + i, 50, 10)).save(path, format="PNG")
        paths.append(os.fsdecode(path))
    return paths


def test_hostile_names_mid_folder_every_image_done_then_up_to_date(
    tmp_path: Path,
    env: dict[str, str],
    spec_file: Path,
) -> None:
    names = [b"a0.png", *HOSTILE, b"z0.png"]
    write_named(tmp_path / "in", names)
    out = tmp_path / "out"
    args: list[str | Path] = [tmp_path / "in", "-o", out, "--model-spec", spec_file]
    args += ["--workers", "1"]
    first = cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert f"{len(names)} of {len(names)} images done" in first.stdout
    assert "\\xff\\xfe" in first.stdout  # shown escaped, not as a crash
    raw = (out / "manifest.jsonl").read_bytes()
    lines = raw.decode("utf-8").splitlines()  # valid UTF-8 whatever the names
    assert len(lines) == len(names)
    outputs = sorted(n for n in os.listdir(os.fsencode(out)) if n.endswith(b".png"))
    assert outputs == sorted(n[: -len(b".png")] + b".png" for n in names)
    rows = [json.loads(line) for line in lines]
    odd = [r for r in rows if "source_b64" in r]
    assert len(odd) == len(HOSTILE)
    assert all(r["status"] == "done" and "\n" not in r["source"] for r in rows)
    again = cli(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert f"0 written, {len(names)} up to date" in again.stdout


def test_bytes_and_undecodable_paths_through_the_python_api(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))
    src = write_named(tmp_path / "in", [b"b\xfe.png", b"ok.png"])
    out = tmp_path / "out"
    kw: dict[str, Any] = {"model": tiny_model.spec.name, "registry": tiny_model.registry}
    rows = remove_many([os.fsencode(src[0]), src[1]], out, workers=1, progress=False, **kw)
    assert [r.status for r in rows] == ["done", "done"]
    assert rows[0].source == src[0] and os.path.isfile(rows[0].outputs[0])
    assert set(read_manifest(out / "manifest.jsonl")) == {r.key for r in rows}
    again = remove_many(os.fsencode(tmp_path / "in"), out, workers=1, progress=False, **kw)
    assert [r.status for r in again] == ["skipped", "skipped"]


file_names = st.binary(min_size=1, max_size=40).filter(lambda b: b"\x00" not in b and b"/" not in b)


@settings(max_examples=200, deadline=None)
@given(source=file_names, output=file_names, error=st.text(max_size=40))
def test_any_os_name_survives_a_manifest_line(source: bytes, output: bytes, error: str) -> None:
    src = os.fsdecode(b"/in/" + source)
    dst = os.fsdecode(b"/out/" + output)
    row = ManifestRow(src, "ab" * 32, (dst,), "failed", error=error, seconds=0.5)
    line = row.to_json()
    line.encode("utf-8")  # no lone surrogate reaches the file
    assert "\n" not in line
    back = ManifestRow.from_dict(json.loads(line))
    assert back.key == row.key and os.fsencode(back.source) == b"/in/" + source
    assert back.error == display(error)
    text, b64 = path_to_json(src)
    assert path_from_json(text, b64) == src and text == display(src)


def test_a_row_that_cannot_be_recorded_fails_that_image_only(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    good = ManifestRow("/in/a.png", "11", ("/out/a.png",), "done", output_sha256=("22",))
    bad = ManifestRow("/in/b.png", "33", ("/out/b.png",), "done", seconds=math.nan)
    after = ManifestRow("/in/c.png", "44", ("/out/c.png",), "done", output_sha256=("55",))
    with ManifestWriter(path, {}) as writer:
        recorded = writer.append([good, bad, after])
    assert [r.status for r in recorded] == ["done", "failed", "done"]
    assert recorded[1].key == bad.key and "cannot be recorded" in str(recorded[1].error)
    rows = read_manifest(path)
    assert [r.status for r in rows.values()] == ["done", "failed", "done"]
