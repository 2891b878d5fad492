"""The many-image job without Dask: inputs, manifest, outputs, resuming, bad inputs, the pool."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation import remove_many
from segmentation.errors import ModelIntegrityError, ModelNotFoundError, SegmentationError
from segmentation.jobs.claims import claims_path, clear_claims, remove_unrecorded, write_claims
from segmentation.jobs.inputs import expand_inputs
from segmentation.jobs.manifest import ManifestRow, ManifestWriter, read_manifest, write_manifest
from segmentation.jobs.model import ModelRef, locate_bare, prepare_model, shipped_path
from segmentation.jobs.outputs import remove_stale_temps
from tests._images import BAD_FILES, red_photos, write_bad
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))


def run(tiny: TinyModel, inputs: object, out: Path, **kw: object) -> list[ManifestRow]:
    kw.setdefault("workers", 1)
    kw.setdefault("progress", False)
    return remove_many(
        inputs,  # type: ignore[arg-type]
        out,
        model=tiny.spec.name,
        registry=tiny.registry,
        **kw,  # type: ignore[arg-type]
    )


def manifest_lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]


def test_expand_inputs_files_folders_and_lists(tmp_path: Path) -> None:
    photos = red_photos(tmp_path / "in", 3)
    (tmp_path / "in" / "notes.md").write_text("not an image")
    (tmp_path / "in" / ".r00.png.abc123.part").write_bytes(b"temp")
    (tmp_path / "more").mkdir()
    extra = tmp_path / "more" / "x.jpg"
    Image.fromarray(red_square_rgba()[..., :3]).save(extra)
    listing = tmp_path / "lists" / "batch.txt"
    listing.parent.mkdir()
    listing.write_text(f"# photos\n\n../in/r01.png\n{tmp_path / 'more'}\nmissing.png\n")
    got = expand_inputs([photos[2], tmp_path / "in", listing], exclude=[str(photos[0])])
    assert got == [
        str(photos[2]),
        str(photos[1]),  # r00 excluded (an output of an earlier run), r02 only once
        str(extra),
        str(tmp_path / "lists" / "missing.png"),  # a missing entry fails as that image
    ]
    with pytest.raises(SegmentationError, match=r"input list .*nope\.txt: no such file"):
        expand_inputs([tmp_path / "nope.txt"])


def test_manifest_latest_row_wins_and_torn_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    a1 = ManifestRow("/a.png", "11", ("/o/a.png",), "failed", error="boom")
    a2 = ManifestRow("/a.png", "11", ("/o/a.png",), "done", output_sha256=("22",))
    b = ManifestRow("/b.png", None, ("/o/b.png",), "failed", error="x")
    path.write_text(
        a1.to_json() + "\n" + "garbage\n" + b.to_json() + "\n" + a2.to_json() + "\n"
        + '{"source": "/c.png", "sha'  # a run killed while appending
    )  # fmt: skip
    rows = read_manifest(path)
    assert list(rows.values()) == [b, a2]
    with ManifestWriter(path, rows) as writer:  # compacts, then appends
        writer.append([b])
    assert [json.loads(x)["source"] for x in path.read_text().splitlines()] == [
        "/b.png", "/a.png", "/b.png",
    ]  # fmt: skip
    assert ManifestRow.from_dict(json.loads(a2.to_json())) == a2


def test_manifest_path_holding_something_else_is_left_alone(tmp_path: Path) -> None:
    precious = tmp_path / "notes.jsonl"
    precious.write_text("my own notes\n")
    with pytest.raises(SegmentationError, match="holds no manifest rows"):
        ManifestWriter(precious, read_manifest(precious))
    assert precious.read_text() == "my own notes\n"


def test_output_over_an_input_is_refused_before_any_work(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "photos", 2)
    before = {p: p.read_bytes() for p in photos}
    with pytest.raises(SegmentationError, match="refusing to write over an input"):
        run(tiny_model, [photos[0]], tmp_path / "photos")
    with pytest.raises(SegmentationError, match=r"r00\.png would replace .*r00\.png"):
        run(tiny_model, [tmp_path / "photos"], tmp_path / "photos")
    out = tmp_path / "out"
    out.mkdir()
    os.link(photos[1], out / "r01.png")  # the same file under the output's name
    with pytest.raises(SegmentationError, match="refusing to write over an input"):
        run(tiny_model, [photos[1]], out, overwrite=True)
    with pytest.raises(SegmentationError, match=r"manifest .* would replace"):
        run(tiny_model, [photos[0]], tmp_path / "o2", manifest=photos[0])
    assert {p: p.read_bytes() for p in photos} == before
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["r00.png", "r01.png"]
    assert not (tmp_path / "o2").exists()


def test_masks_into_the_input_folder_rerun_does_not_read_them_back(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "photos", 2)
    rows = run(tiny_model, [tmp_path / "photos"], tmp_path / "photos", mask_only=True)
    assert [r.status for r in rows] == ["done", "done"]
    again = run(tiny_model, [tmp_path / "photos"], tmp_path / "photos", mask_only=True)
    assert [r.source for r in again] == [str(p) for p in photos]
    assert [r.status for r in again] == ["skipped", "skipped"]


def test_bad_inputs_mixed_in_say_why_and_the_others_complete(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    good = red_photos(tmp_path / "in", 2)
    bad = {case: write_bad(tmp_path / "in", case) for case in sorted(BAD_FILES)}
    fifo = tmp_path / "in" / "pipe.png"
    os.mkfifo(fifo)
    inputs = [good[0], *(p for p, _ in bad.values()), fifo, good[1]]
    out = tmp_path / "out"
    rows = run(tiny_model, inputs, out, background="white")
    assert [r.source for r in rows] == [str(p) for p in inputs]
    by_source = {r.source: r for r in rows}
    for case, (path, fragment) in bad.items():
        row = by_source[str(path)]
        assert row.status == "failed" and fragment in (row.error or ""), (case, row)
        assert str(path) in (row.error or "") and not Path(row.outputs[0]).exists()
    assert "not a regular file" in (by_source[str(fifo)].error or "")
    me = f"{socket.gethostname()}:{os.getpid()}"
    for path in good:
        row = by_source[str(path)]
        assert row.status == "done" and row.error is None and row.worker == me
        assert row.sha256 is not None and row.seconds > 0
        cut = np.asarray(Image.open(row.outputs[0]))
        assert cut.shape == (*np.asarray(Image.open(path)).shape[:2], 4)
        assert (cut[..., 3] == 255).all(), "a white background makes the cutout opaque"
        assert cut[60, 60, 0] > 200 and cut[2, 2, 0] == 255  # red subject, white background
    assert len(manifest_lines(out)) == len(inputs)


def test_rerun_skips_what_is_done_and_redoes_what_changed(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "in", 4)
    out = tmp_path / "out"
    first = run(tiny_model, [tmp_path / "in"], out)
    assert [r.status for r in first] == ["done"] * 4
    stamps = {r.outputs[0]: os.stat(r.outputs[0]).st_mtime_ns for r in first}
    Image.fromarray(red_square_rgba(50, 70, 10)).save(photos[0])  # source changed
    os.unlink(first[1].outputs[0])  # output deleted
    Path(first[2].outputs[0]).write_bytes(b"\x89PNG damaged")  # output damaged
    again = run(tiny_model, [tmp_path / "in"], out)
    assert [r.status for r in again] == ["done", "done", "done", "skipped"]
    assert again[0].sha256 != first[0].sha256
    assert Image.open(again[0].outputs[0]).size == (70, 50)
    assert os.stat(again[3].outputs[0]).st_mtime_ns == stamps[again[3].outputs[0]]
    other = run(tiny_model, [tmp_path / "in"], out, background="#00ff00")  # other settings
    assert [r.status for r in other] == ["done"] * 4
    forced = run(tiny_model, [tmp_path / "in"], out, background="#00ff00", overwrite=True)
    assert [r.status for r in forced] == ["done"] * 4
    assert len(manifest_lines(out)) == 4 + 4, "compacted to one row per image, then appended"


def test_existing_output_not_from_the_job_is_kept_unless_overwrite(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "r00.png"
    mine.write_bytes(b"my own file")
    rows = run(tiny_model, photos, out)
    assert [r.status for r in rows] == ["kept", "done"]
    assert mine.read_bytes() == b"my own file"
    again = run(tiny_model, photos, out)  # a kept row never vouches for the file later
    assert [r.status for r in again] == ["kept", "skipped"]
    mine.unlink()
    assert [r.status for r in run(tiny_model, photos, out)] == ["done", "skipped"]
    mine.write_bytes(b"my own file")
    rows = run(tiny_model, photos, out, overwrite=True)
    assert [r.status for r in rows] == ["done", "done"]
    assert Image.open(mine).mode == "RGBA"


def test_a_failed_write_is_that_images_failure_and_the_batch_goes_on(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    (out / "r01.png").mkdir(parents=True)  # a folder in the way
    rows = run(tiny_model, photos, out)
    assert [r.status for r in rows] == ["done", "failed", "done"]
    assert str(rows[1].error).startswith(f"{out / 'r01.png'}: cannot write (Is a directory)")
    assert (out / "r01.png").is_dir()
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_stale_temporary_files_of_a_killed_writer_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".a.png.k3j4h5.part").write_bytes(b"half")
    (tmp_path / ".b.png.zzz.part").write_bytes(b"not ours")
    (tmp_path / "a.png").write_bytes(b"whole")
    assert remove_stale_temps([str(tmp_path / "a.png")]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.png.zzz.part", "a.png"]


def test_pool_of_two_processes_writes_the_same_bytes(tiny_model: TinyModel, tmp_path: Path) -> None:
    red_photos(tmp_path / "in", 6)
    serial = run(tiny_model, [tmp_path / "in"], tmp_path / "one", mask_only=True)
    pooled = run(tiny_model, [tmp_path / "in"], tmp_path / "two", mask_only=True, workers=2)
    me = f"{socket.gethostname()}:{os.getpid()}"
    assert all(r.status == "done" and r.worker != me for r in pooled)
    for a, b in zip(serial, pooled, strict=True):
        assert Path(a.outputs[0]).read_bytes() == Path(b.outputs[0]).read_bytes()
        assert a.output_sha256 == b.output_sha256


def test_model_by_sha256_found_or_shipped(tiny_model: TinyModel, tmp_path: Path) -> None:
    ref = prepare_model(tiny_model.spec, tiny_model.registry)
    assert locate_bare(ref) == ref.spec  # the client's own file
    moved = ref.spec.with_sources()  # as if the worker had another file system: not found
    gone = ModelRef(moved, ref.bare_sha256, ref.wrapped_sha256)
    with pytest.raises(ModelNotFoundError, match="ship the model"):
        locate_bare(gone)
    with pytest.raises(ModelIntegrityError, match="failed its sha256"):
        locate_bare(gone, payload=b"not the model")
    assert not shipped_path(gone).exists()
    spec = locate_bare(gone, payload=tiny_model.path.read_bytes())
    assert spec.sources[0].path == shipped_path(gone)  # type: ignore[union-attr]
    assert shipped_path(gone).read_bytes() == tiny_model.path.read_bytes()


def test_default_cli_path_does_not_import_distributed() -> None:
    code = "import sys, segmentation, segmentation.cli.main; print('distributed' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_unreasonable_engine_settings_fail_before_any_work(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "in", 1)
    with pytest.raises(ValueError, match="more than 4 per core"):
        run(tiny_model, photos, tmp_path / "o", workers=10_000)
    with pytest.raises(TypeError, match="got a int"):
        run(tiny_model, photos, tmp_path / "o", cluster=5)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        run(tiny_model, photos, tmp_path / "o", batch_size=0)
    assert not (tmp_path / "o").exists()


def test_inputs_that_are_not_paths_are_named(tiny_model: TinyModel, tmp_path: Path) -> None:
    photo = red_photos(tmp_path / "in", 1)[0]
    out = tmp_path / "o"
    with pytest.raises(TypeError, match=r"inputs\[1\] is None, not a path"):
        run(tiny_model, [photo, None], out)
    with pytest.raises(TypeError, match="inputs must be a path or an iterable of paths, got a int"):
        run(tiny_model, 5, out)
    with pytest.raises(SegmentationError, match=r"^no inputs given: pass image files"):
        run(tiny_model, [], out)
    with pytest.raises(SegmentationError, match=r"inputs\[0\] is not a usable path \(empty\)"):
        run(tiny_model, [""], out)
    with pytest.raises(TypeError, match="out_dir must be a path"):
        run(tiny_model, [photo], None)
    with pytest.raises(SegmentationError, match=f"^no images found in {tmp_path / 'empty'}$"):
        (tmp_path / "empty").mkdir()
        run(tiny_model, [tmp_path / "empty"], out)
    assert not out.exists()


def test_claimed_outputs_no_row_records_are_removed_and_nothing_else(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    paths = {k: str(tmp_path / f"{k}.png") for k in ("recorded", "stray", "folder", "link", "gone")}
    paths["odd"] = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"odd\xff.png"))
    for key in ("recorded", "stray", "odd"):
        Path(paths[key]).write_bytes(b"png")
    os.mkdir(paths["folder"])
    os.symlink(paths["recorded"], paths["link"])
    row = ManifestRow("/in/r.png", "11", (paths["recorded"],), "done", output_sha256=("22",))
    write_manifest(manifest, [row])
    assert remove_unrecorded(manifest) == [], "no claims: nothing to do"
    write_claims(manifest, paths.values())
    assert sorted(remove_unrecorded(manifest)) == sorted([paths["stray"], paths["odd"]])
    assert all(os.path.lexists(paths[k]) for k in ("recorded", "folder", "link"))
    clear_claims(manifest)
    assert not claims_path(manifest).exists()
