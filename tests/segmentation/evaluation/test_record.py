"""Results files: written atomically, NaN as null, and what cannot be read is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentation.evaluation.record import read_record, write_record


def test_results_file_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    path = write_record(tmp_path / "r.json", [{"gt_s_measure": float("nan")}], [],
                        {"command": "python -m segmentation bench"})  # fmt: skip
    assert read_record(path).summary == [{"gt_s_measure": None}], "NaN stored as null"
    with pytest.raises(ValueError, match="needs the command"):
        write_record(tmp_path / "x.json", [], [], {})
    assert not (tmp_path / "x.json").exists()
    path.write_text(json.dumps({"record_version": 99}))
    with pytest.raises(ValueError, match="version 99, expected 1"):
        read_record(path)
    path.write_text("{")
    with pytest.raises(ValueError, match="is not a results file"):
        read_record(path)
    with pytest.raises(FileNotFoundError, match="no results file"):
        read_record(tmp_path / "missing.json")
