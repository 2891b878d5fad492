"""A job killed for real, and a real second job on its folder: no orphan, no lost or trusted row.

Real processes and real signals: ``python -m segmentation remove`` with the
tiny model and a pool of two worker processes, stopped (SIGSTOP) so that its
workers finish outputs it never records, then SIGKILLed; a second job started
while the first holds the folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segmentation.jobs.lock import FOLDER_LOCK, JobLock, JobLockedError, lock_paths
from tests._images import noisy_photos
from tests.segmentation.cli_runs import assert_one_line_error, cli, rows

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc (children, grandchildren...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(args: list[str | Path], environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``remove`` with its output in a file (an orphan holding a pipe would hang us)."""
    with log.open("wb") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "segmentation", "remove", *map(str, args)],
            stdout=f, stderr=subprocess.STDOUT, env=environ,
        )  # fmt: skip


def wait_for_rows(manifest: Path, proc: subprocess.Popen[bytes], n: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.is_file() and len(manifest.read_bytes().splitlines()) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"the job ended or stalled before {n} rows (rc {proc.poll()})")


def test_killed_job_takes_its_workers_along_and_unrecorded_outputs_are_redone(
    tmp_path: Path,
    env: dict[str, str],
    spec_file: Path,
) -> None:
    photos = noisy_photos(tmp_path / "in", 24, size=(160, 200))
    out = tmp_path / "out"
    manifest = out / "manifest.jsonl"
    args: list[str | Path] = [tmp_path / "in", "-o", out, "--model-spec", spec_file]
    args += ["--workers", "2", "--batch-size", "1"]
    proc = start(args, env, tmp_path / "first.log")
    wait_for_rows(manifest, proc, 4)
    workers = descendants(proc.pid)
    assert len(workers) >= 2, "a pool of two processes (and its resource tracker)"
    # Stopped, the job reads no result: its workers finish the images they hold and write
    # outputs it never records. Then it is killed like `kill -9` would.
    proc.send_signal(signal.SIGSTOP)
    time.sleep(1.5)
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.05)
    left = [p for p in workers if alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived their job: {left}"

    written = {p.name for p in out.glob("*.png")}
    recorded = {Path(str(r["outputs"][0])).name for r in rows(manifest)}  # type: ignore[index]
    unrecorded = written - recorded
    assert unrecorded, "the stopped job's workers wrote outputs it never recorded"
    rerun = cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"removed {len(unrecorded)} output(s) that a stopped run wrote" in rerun.stdout
    assert "kept" not in rerun.stdout
    latest = {Path(str(r["outputs"][0])).name: r["status"] for r in rows(manifest)}  # type: ignore[index]
    assert sorted(latest) == sorted(p.name for p in photos)
    assert all(latest[name] == "done" for name in unrecorded), "redone, not trusted"
    assert not (out / FOLDER_LOCK).exists() and not (out / ".manifest.jsonl.claims").exists()


def test_a_second_job_on_the_folder_or_manifest_stops_naming_the_first(
    tmp_path: Path,
    env: dict[str, str],
    spec_file: Path,
) -> None:
    noisy_photos(tmp_path / "in", 12, size=(120, 160))
    out = tmp_path / "out"
    manifest = out / "manifest.jsonl"
    args: list[str | Path] = [tmp_path / "in", "-o", out, "--model-spec", spec_file]
    first = start([*args, "--workers", "1"], env, tmp_path / "first.log")
    wait_for_rows(manifest, first, 1)
    first.send_signal(signal.SIGSTOP)  # holds the lock for as long as the test needs
    try:
        line = assert_one_line_error(cli(*args, env=env))
        assert f"output folder {out} is in use by another job (pid {first.pid} on " in line
        other = tmp_path / "deep" / "other"
        line = assert_one_line_error(cli(*args[:2], other, *args[3:], "--manifest", manifest,
                                         env=env))  # fmt: skip
        assert f"manifest {manifest} is in use by another job (pid {first.pid}" in line
        assert not (tmp_path / "deep").exists(), "a refused job leaves no folder behind"
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=120) == 0, (tmp_path / "first.log").read_text()
    assert [r["status"] for r in rows(manifest)] == ["done"] * 12, "every row of the first job"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.jsonl"] + [
        f"p{i:03d}.png" for i in range(12)
    ], "no lock or claims file left"


def test_lock_names_this_process_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    paths = lock_paths(out, tmp_path / "elsewhere" / "m.jsonl")
    assert paths == [out / FOLDER_LOCK, tmp_path / "elsewhere" / ".m.jsonl.lock"]
    (tmp_path / "elsewhere").mkdir()
    with JobLock(paths):
        with pytest.raises(JobLockedError, match=rf"pid {os.getpid()} on "):
            JobLock(lock_paths(out, out / "manifest.jsonl")).acquire()
        with pytest.raises(JobLockedError, match=rf"pid {os.getpid()} on "):
            JobLock([tmp_path / "elsewhere" / ".m.jsonl.lock"]).acquire()
        assert json.loads(paths[0].read_text())["pid"] == os.getpid()
    assert not paths[0].exists() and not paths[1].exists()
    with JobLock(paths):  # free again
        pass
