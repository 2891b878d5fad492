"""Run ``python -m segmentation`` in a real subprocess and read what it wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def cli(
    *args: str | Path,
    env: dict[str, str],
    preexec: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segmentation", "remove", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300, preexec_fn=preexec,
    )  # fmt: skip


def rows(manifest: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in manifest.read_text().splitlines()]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {proc.stderr!r}"
    return lines[0]
