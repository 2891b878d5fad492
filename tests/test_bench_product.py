"""``scripts/bench_product.py --smoke``: runs on a made image and says sensible things."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_prints_tables_and_decontamination_lowers_the_error(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_product.py"), "--smoke", "--no-browser",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "| kernel | amazon" in run.stdout and "mae_soft_decont" in run.stdout
    report = json.loads(out.read_text())
    assert {r["preset"] for r in report["speed"]} == {"amazon", "shopify", "transparent"}
    assert all(r["total_s"] > 0 for r in report["speed"])
    (q,) = report["quality"]
    assert q["soft_px"] > 100 and q["mae_soft_decont"] < 0.5 * q["mae_soft_raw"]
