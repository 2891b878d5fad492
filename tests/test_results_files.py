"""The measured tables of docs/results.md are made from the committed results files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from segmentation.evaluation.record import read_record
from segmentation.evaluation.report import blocks, replace_blocks, tables

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "notebooks" / "results"
PAGE = ROOT / "docs" / "results.md"


def test_results_page_tables_match_the_results_files() -> None:
    found = blocks(PAGE.read_text())
    files = sorted(RESULTS.glob("*.json"))
    assert files, "no results files under notebooks/results"
    assert {p.stem for p in files} <= found.keys(), "a results file has no block in the page"
    for p in files:
        assert found[p.stem] == tables(p.stem, read_record(p)), (
            f"docs/results.md block {p.stem} differs from {p.name}: "
            "run scripts/results_tables.py --write"
        )


def test_results_tables_script_writes_the_results_page(tmp_path: Path) -> None:
    """``--write`` alone targets docs/results.md; a copy of it comes out unchanged."""
    copy = tmp_path / "results.md"
    copy.write_text(PAGE.read_text())
    script = ROOT / "scripts" / "results_tables.py"
    run = subprocess.run(
        [sys.executable, str(script), "--write", str(copy)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert copy.read_text() == PAGE.read_text()
    usage = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert "default docs/results.md" in usage.stdout, usage.stdout


def test_replace_blocks_changes_only_the_named_block() -> None:
    text = (
        "a\n<!-- results:x -->\nold\n<!-- /results -->\n"
        "b\n<!-- results:y -->\nkeep\n<!-- /results -->\n"
    )
    new = replace_blocks(text, {"x": "new\n"})
    assert blocks(new) == {"x": "new\n", "y": "keep\n"}
    assert new.startswith("a\n") and "\nb\n" in new


def test_readme_figures_are_the_results_files() -> None:
    """The README's summary of the default model quotes the committed results files."""
    readme = (ROOT / "README.md").read_text()
    acc = read_record(RESULTS / "accuracy_vs_quantization.json")
    default, first = acc.meta["default_precision"], acc.meta["runtimes"][0]
    iou = {(r["dataset"], r["variant"]): r["gt_iou"] for r in acc.summary if r["runtime"] == first}
    icm, sod = "icm58_objects", "sod_bsds300"
    accuracy = (
        f"{iou[icm, default]:.3f} / {iou[sod, default]:.3f} "
        f"(fp32: {iou[icm, 'fp32']:.3f} / {iou[sod, 'fp32']:.3f})"
    )
    assert accuracy in readme, accuracy

    lat = read_record(RESULTS / "browser_vs_python.json")
    by = {r["runtime"]: r for r in lat.summary if r["variant"] == lat.meta["default_precision"]}
    parity = min(r["parity_min_iou"] for r in by.values() if r.get("parity_min_iou") is not None)
    seconds = [by[k]["latency_median_s"] for k in ("python-2t", "browser-tab-1t", "browser-tab-2t")]
    latency = " / ".join(f"{s:.2f} s" for s in seconds) + f", same mask (IoU {parity:.4f})"
    assert latency in readme, latency
    assert f"(the default, {by['python-2t']['size_mb']:.0f} MB)" in readme
