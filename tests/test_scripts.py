"""Smoke runs of the maintenance scripts in ``scripts/`` that a user or ``make results`` runs.

Each runs for real, as a user runs it (a subprocess of the project's Python), on its smallest
case; the test checks what it wrote. The benchmarks are ``python -m widget.bench`` (smoke
runs: ``tests/widget/bench/test_commands.py``).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation.conversion.int8_static import ranges_path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def run_script(name: str, *args: str | Path, timeout: float = 600) -> str:
    """Run ``scripts/NAME`` with ``args``; return its stdout, failing with its stderr's tail."""
    cmd = [sys.executable, str(SCRIPTS / name), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
    assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{tail}\n{proc.stdout[-2000:]}"
    return proc.stdout


@pytest.mark.isnet
def test_calibrate_isnet_int8(tmp_path: Path) -> None:
    out_file = tmp_path / "ranges.json"
    run_script("calibrate_isnet_int8.py", "--out", out_file, "--photos", "1")
    made = json.loads(out_file.read_text())
    shipped = json.loads(ranges_path("isnet-general-use").read_text())
    assert made["format"] == shipped["format"] and made["model"] == shipped["model"]
    assert made["ranges"].keys() == shipped["ranges"].keys()  # the same tensors calibrated
    lows_highs = [v for pair in made["ranges"].values() for v in pair]
    assert all(math.isfinite(v) for v in lows_highs)
    assert list(made["calibration"]) == ["astronaut.png"]


def test_results_tables() -> None:
    out = run_script("results_tables.py")
    for name in ("accuracy_vs_quantization", "browser_vs_python"):
        assert f"<!-- results:{name} -->" in out
    assert "| **int8-static** (default) |" in out


def test_make_notebooks_executes_one(tmp_path: Path) -> None:
    run_script("make_notebooks.py", "01", "--out", tmp_path)
    nb = json.loads((tmp_path / "01_quickstart.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), "a cell did not run"
    errors = [o for c in code for o in c["outputs"] if o.get("output_type") == "error"]
    assert errors == []
    assert not (ROOT / "notebooks" / "01_quickstart.ipynb").samefile(
        tmp_path / "01_quickstart.ipynb"
    )
