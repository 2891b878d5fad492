"""The README's measured tables are made from the committed results files, not typed in."""

from __future__ import annotations

from pathlib import Path

from segmentation.evaluation.record import read_record
from segmentation.evaluation.report import blocks, replace_blocks, tables

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "notebooks" / "results"


def test_readme_tables_match_the_results_files() -> None:
    readme = (ROOT / "README.md").read_text()
    found = blocks(readme)
    files = sorted(RESULTS.glob("*.json"))
    assert files, "no results files under notebooks/results"
    assert {p.stem for p in files} <= found.keys(), "a results file has no README block"
    for p in files:
        assert found[p.stem] == tables(p.stem, read_record(p)), (
            f"README block {p.stem} differs from {p.name}: "
            "run scripts/results_tables.py --write README.md"
        )


def test_replace_blocks_changes_only_the_named_block() -> None:
    text = (
        "a\n<!-- results:x -->\nold\n<!-- /results -->\n"
        "b\n<!-- results:y -->\nkeep\n<!-- /results -->\n"
    )
    new = replace_blocks(text, {"x": "new\n"})
    assert blocks(new) == {"x": "new\n", "y": "keep\n"}
    assert new.startswith("a\n") and "\nb\n" in new
