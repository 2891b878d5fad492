"""``python -m segmentation remove`` as the job: real subprocesses, signals and write limits."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from tests._images import noisy_photos
from tests.segmentation.cli_runs import assert_one_line_error, cli, rows

ROOT = Path(__file__).resolve().parents[3]


def test_output_over_the_input_is_refused(
    tmp_path: Path, env: dict[str, str], spec_file: Path
) -> None:
    photos = noisy_photos(tmp_path / "photos", 2)
    before = [p.read_bytes() for p in photos]
    line = assert_one_line_error(
        cli(photos[0], "-o", tmp_path / "photos", "--model-spec", spec_file, env=env)
    )
    assert "refusing to write over an input" in line and str(photos[0]) in line
    line = assert_one_line_error(
        cli(tmp_path / "photos", "-o", tmp_path / "photos", "--model-spec", spec_file, env=env)
    )
    assert "refusing to write over an input" in line
    assert [p.read_bytes() for p in photos] == before
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["p000.png", "p001.png"]
    line = assert_one_line_error(cli(photos[0], "-o", "/dev/full", env=env))
    assert "/dev/full exists and is not a folder" in line


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_fails_that_image_keeps_the_old_output_and_goes_on(
    tmp_path: Path, env: dict[str, str], spec_file: Path
) -> None:
    small = noisy_photos(tmp_path / "in", 3, size=(40, 50))
    big = noisy_photos(tmp_path / "big", 1, size=(400, 500))[0]
    out = tmp_path / "out"
    inputs = [small[0], big, small[1], small[2]]
    first = cli(*inputs, "-o", out, "--model-spec", spec_file, "--workers", "1", env=env)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.glob("*.png")}
    big_out = out / "p000-1.png"  # the second p000 stem
    assert len(before) == 4 and big_out.stat().st_size > 200_000
    # Writes past 100 kB fail with EFBIG (Python ignores SIGXFSZ): a full disk for big files.
    proc = cli(
        *inputs, "-o", out, "--model-spec", spec_file, "--workers", "1", "--overwrite",
        env=env, preexec=_limit_file_size(100_000),
    )  # fmt: skip
    line = assert_one_line_error(proc)
    assert line.startswith("error: 1 of 4 images failed:")
    assert f"{big_out}: cannot write (File too large)" in line and str(big) in line
    assert "3 of 4 images done" in proc.stdout
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == before, "old outputs intact"
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    latest = {str(r["source"]): r["status"] for r in rows(out / "manifest.jsonl")}
    assert latest == {str(p): "done" for p in small} | {str(big): "failed"}


def test_max_pixels_refuses_big_images_only(
    tmp_path: Path, env: dict[str, str], spec_file: Path
) -> None:
    small = noisy_photos(tmp_path / "in", 1, size=(40, 50))[0]
    big = noisy_photos(tmp_path / "big", 1, size=(100, 120))[0]
    out = tmp_path / "out"
    proc = cli(small, big, "-o", out, "--model-spec", spec_file, "--max-pixels", "5000", env=env)
    line = assert_one_line_error(proc)
    assert "1 of 2 images failed" in line and "too large (120x100 = 12,000 pixels" in line
    assert (out / "p000.png").is_file() and not (out / "p000-1.png").exists()
    line = assert_one_line_error(cli(small, "-o", out, "--max-pixels", "0", env=env))
    assert "--max-pixels must be at least 1" in line


def test_sigint_then_rerun_completes_exactly_the_missing_outputs(
    tmp_path: Path, env: dict[str, str], spec_file: Path
) -> None:
    photos = noisy_photos(tmp_path / "in", 160, size=(240, 320))
    out = tmp_path / "out"
    manifest = out / "manifest.jsonl"
    args = [tmp_path / "in", "-o", out, "--model-spec", spec_file, "--workers", "2"]
    # Ctrl+C's default action in the child even when this run inherited SIGINT ignored (as
    # commands started with `&` from a script do), so the job sees the interrupt
    proc = subprocess.Popen(
        [sys.executable, "-m", "segmentation", "remove", *map(str, args), "--batch-size", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.is_file() and len(manifest.read_text().splitlines()) >= 6:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr + stdout
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted after ")
    present = {p.name: os.stat(p) for p in out.glob("*.png")}
    assert 0 < len(present) < len(photos), "interrupted mid-run"
    for name in present:
        with Image.open(out / name) as im:
            im.load()  # every output under a final name is complete
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    rerun = cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(photos)} of {len(photos)} images done" in rerun.stdout
    final = {p.name: os.stat(p) for p in out.glob("*.png")}
    assert sorted(final) == sorted(p.name for p in photos)
    for name, st in present.items():  # not rewritten
        assert (final[name].st_ino, final[name].st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    latest = {str(r["source"]): r for r in rows(manifest)}
    assert len(latest) == len(photos)
    written = {Path(str(r["outputs"][0])).name for r in latest.values() if r["status"] == "done"}  # type: ignore[index]
    reused = {Path(str(r["outputs"][0])).name for r in latest.values() if r["status"] != "done"}  # type: ignore[index]
    assert written == set(final) - set(present) and reused == set(present)


def test_cluster_local_prints_the_dashboard_and_records_workers(
    tmp_path: Path, env: dict[str, str], spec_file: Path
) -> None:
    noisy_photos(tmp_path / "in", 3, size=(40, 50))
    out = tmp_path / "out"
    proc = cli(
        tmp_path / "in", "-o", out, "--model-spec", spec_file, "--cluster", "local",
        "--workers", "1", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "on Dask LocalCluster (1 workers)" in proc.stdout
    assert "dashboard: http://127.0.0.1:" in proc.stdout
    assert "3 of 3 images done" in proc.stdout
    workers = {str(r["worker"]) for r in rows(out / "manifest.jsonl")}
    assert len(workers) == 1 and workers.pop().startswith("tcp://127.0.0.1:")


def test_a_manifest_that_cannot_be_written_stops_the_job_naming_it(
    tmp_path: Path, env: dict[str, str], spec_file: Path
) -> None:
    noisy_photos(tmp_path / "in", 12, size=(16, 16))
    warm = cli(tmp_path / "in", "-o", tmp_path / "warm", "--model-spec", spec_file, env=env)
    assert warm.returncode == 0, warm.stderr  # the wrapped model is in the cache now
    out = tmp_path / "out"
    proc = cli(
        tmp_path / "in", "-o", out, "--model-spec", spec_file, "--mask-only", "--workers", "1",
        env=env, preexec=_limit_file_size(2_000),  # masks fit, the 12-row manifest does not
    )  # fmt: skip
    line = assert_one_line_error(proc)
    assert line.startswith(f"error: manifest {out / 'manifest.jsonl'}: cannot write (File too")
    masks = sorted(out.glob("*.mask.png"))
    assert 0 < len(masks) < 12
    for mask in masks:
        with Image.open(mask) as im:
            im.load()


def test_bad_model_spec_files_are_one_line_errors(tmp_path: Path, env: dict[str, str]) -> None:
    photo = noisy_photos(tmp_path / "in", 1, size=(16, 16))[0]
    cases = {
        "typo.json": ('{"path": "m.onnx", "name": "m", "meen": [0]}', "unknown keys ['meen']"),
        "noname.json": ('{"path": "m.onnx"}', "'name' (a string) is required"),
        "list.json": ("[1, 2]", "expected a JSON object"),
        "broken.json": ('{"path": ', "cannot be read"),
        "nofile.json": ('{"path": "missing.onnx", "name": "m"}', "model file not found"),
    }
    for name, (text, fragment) in cases.items():
        (tmp_path / name).write_text(text)
        line = assert_one_line_error(
            cli(photo, "-o", tmp_path / "out", "--model-spec", tmp_path / name, env=env)
        )
        assert fragment in line, (name, line)
    assert not (tmp_path / "out").exists()
