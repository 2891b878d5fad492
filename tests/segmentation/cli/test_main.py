"""The command line: exit codes, one-line errors without tracebacks, batches past bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.cli import main as cli
from segmentation.cli.demo import sample_photos
from segmentation.images import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
)
from tests._images import (
    BAD_FILES,
    photo_like,
    write_bad,
)
from tests.segmentation.cli_runs import assert_one_line_error


def run_cli(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segmentation", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_remove_bad_file(tmp_path: Path, case: str) -> None:
    path, fragment = write_bad(tmp_path, case)
    proc = run_cli("remove", str(path), "-o", str(tmp_path / "out"), cwd=tmp_path)
    line = assert_one_line_error(proc)
    assert line.startswith("error: 1 of 1 image failed")
    assert str(path) in line and fragment in line
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["manifest.jsonl"], "no image output"
    (row,) = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert row["status"] == "failed" and fragment in row["error"] and row["outputs"]


def test_usage_error_is_one_line(tmp_path: Path) -> None:
    line = assert_one_line_error(run_cli("remove", "x.png", cwd=tmp_path), code=2)
    assert "--output" in line
    line = assert_one_line_error(run_cli("frobnicate", cwd=tmp_path), code=2)
    assert "invalid choice" in line


def test_bad_colour_and_unknown_model(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(photo_like()).save(good)
    out = str(tmp_path / "out")
    line = assert_one_line_error(
        run_cli("remove", str(good), "-o", out, "--background", "bluish", cwd=tmp_path)
    )
    assert "unknown colour 'bluish'" in line
    line = assert_one_line_error(
        run_cli("remove", str(good), "-o", out, "--model", "nope", cwd=tmp_path)
    )
    assert "unknown model 'nope'" in line and "isnet-general-use" in line
    proc = run_cli("remove", str(good), "-o", out, "--precision", "fp8", cwd=tmp_path)
    assert "no 'fp8' variant" in assert_one_line_error(proc)
    proc = run_cli("remove", str(good), "-o", out, "--threads", "0", cwd=tmp_path)
    assert "--threads" in assert_one_line_error(proc)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run_cli("remove", str(tmp_path / "empty"), "-o", str(tmp_path / "o"), cwd=tmp_path)
    assert "no images found" in assert_one_line_error(proc)


def test_models_table(tmp_path: Path) -> None:
    proc = run_cli("models", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:5] == ["NAME", "PRECISION", "LOCAL", "SIZE", "ONLINE-ONLY"]
    isnet = [ln.split() for ln in lines if ln.startswith("isnet-general-use ")]
    assert sorted(row[1] for row in isnet) == ["fp16", "fp32", "int8", "int8-static"]
    assert all(row[2] in ("yes", "no") for row in isnet)


def test_subcommand_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pl_extra_cmds.py").write_text(
        "def add_subcommands(sub):\n"
        "    p = sub.add_parser('hello')\n"
        "    p.add_argument('--n', type=int, default=1)\n"
        "    p.set_defaults(func=lambda args: 40 + args.n)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ("pl_missing_module_xyz", "pl_extra_cmds"))
    assert cli.main(["hello", "--n", "2"]) == 42


def test_sample_photos_found() -> None:
    photos = sample_photos()
    assert photos[0].name == "grace_hopper.jpg"
    assert all(p.is_file() for p in photos)


@pytest.mark.isnet
def test_batch_goes_on_past_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = next(p for p in sample_photos() if p.name.startswith("Minduka"))
    bad, _ = write_bad(tmp_path, "truncated_jpeg")
    out = tmp_path / "out"
    code = cli.main(["remove", str(bad), str(small), "-o", str(out), "--background", "#00ff00"])
    captured = capsys.readouterr()
    assert code == 1
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "1 of 2 images failed" in err[0] and str(bad) in err[0]
    assert "Traceback" not in captured.err + captured.out
    cut = Image.open(out / f"{small.stem}.png")
    assert cut.size == Image.open(small).size
    assert (np.asarray(cut)[..., 3] == 255).all(), "a colour background makes it opaque"
    assert "1 of 2 images done" in captured.out


@pytest.mark.isnet
def test_demo_writes_cutouts_and_masks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "-o", str(tmp_path / "cutouts")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    photos = sample_photos()
    assert len(out) == len(photos) + 1
    assert out[-1].startswith(f"{len(photos)} images in ")
    for photo in photos:
        cut = Image.open(tmp_path / "cutouts" / f"{photo.stem}.png")
        mask = np.asarray(Image.open(tmp_path / "cutouts" / f"{photo.stem}.mask.png"))
        assert cut.mode == "RGBA" and cut.size == Image.open(photo).size
        assert mask.shape == (cut.height, cut.width)
        np.testing.assert_array_equal(np.asarray(cut)[..., 3], mask)
        assert any(photo.name in line for line in out)


@pytest.mark.isnet
def test_fetch_prepares_the_four_variants(tmp_path: Path) -> None:
    proc = run_cli("fetch", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("  ") for line in proc.stdout.strip().splitlines()]
    assert sorted(key for key, _ in rows) == [
        "isnet-general-use:fp16",
        "isnet-general-use:fp32",
        "isnet-general-use:int8",
        "isnet-general-use:int8-static",
    ]
    assert all(Path(path).is_file() and path.endswith(".onnx") for _, path in rows)


@pytest.mark.parametrize("value", ["100", "0", "4096"])
def test_remove_bad_resolution_is_one_line_error(tmp_path: Path, value: str) -> None:
    img = tmp_path / "a.png"
    Image.fromarray(photo_like(40, 30)).save(img)
    proc = run_cli(
        "remove", str(img), "-o", str(tmp_path / "out"), "--resolution", value, cwd=tmp_path
    )
    line = assert_one_line_error(proc)
    assert "multiples of 32 from 32 to 2048" in line and value in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_remove_help_states_the_pixel_limit_and_where_list_paths_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["remove", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default {DEFAULT_MAX_PIXELS // 10**6} MP, or ${MAX_PIXELS_ENV})" in text
    assert "a relative one is taken from the list file's folder" in text
    assert "one job at a time" in text


def test_cli_remove_refuses_fifo_and_dev_zero_at_once(tmp_path: Path) -> None:
    """The `remove` command, unchanged, inherits the loader's refusal (real subprocess)."""
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    for source, kind in ((str(fifo), "is a FIFO"), ("/dev/zero", "is a character device")):
        proc = run_cli("remove", source, "-o", str(tmp_path / "out"), cwd=tmp_path, timeout=60)
        line = assert_one_line_error(proc)
        assert source in line and kind in line
