"""``python -m segmentation quantize`` and ``bench`` on the tiny model and a made dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.cli.bench import parse_runtime
from segmentation.cli.main import main
from segmentation.evaluation.record import read_record
from segmentation.models import registry as catalog
from tests._images import (
    red_dataset,
    red_disc_photo,
)
from tests.conftest import TinyModel

pytestmark = pytest.mark.usefixtures("private_cache")


def test_cli_quantize_and_bench(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    assert main(["quantize", "tiny-test", "--to", "int8-weight", "fp16"]) == 0
    out = capsys.readouterr().out
    assert "int8-weight" in out and "fp16" in out and ".onnx" in out
    ds = red_dataset(tmp_path / "red", 2)
    code = main(["bench", "--dataset", str(ds), "--model", "tiny-test",
                 "--precisions", "fp32", "--variants", "int8-weight", "--runtime", "python-1",
                 "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "int8-weight\tpython-1t\tred\t2" in out and "wrote" in out
    code = main(["bench", "--dataset", str(ds), "--model", "tiny-test",
                 "--precisions", "fp32", "--variants", "int8-weight", "--runtime", "python-1",
                 "--workers", "2"])  # fmt: skip
    assert code == 0
    spread = capsys.readouterr().out
    assert "python runs on local pool of 2 processes" in spread

    def table(text: str) -> list[dict[str, str]]:
        lines = [ln for ln in text.splitlines() if ln.count("\t") > 5]
        cols = lines[0].split("\t")
        rows = [dict(zip(cols, ln.split("\t"), strict=True)) for ln in lines[1:]]
        return [{k: v for k, v in r.items() if not k.startswith("latency")} for r in rows]

    assert table(spread) == table(out), "same masks, same metrics on the pool"
    assert main(["bench", "--dataset", str(ds), "--runtime", "gpu"]) == 1
    assert "unknown runtime 'gpu'" in capsys.readouterr().err
    assert parse_runtime("python").name == "python-2t"
    assert parse_runtime("browser").name == "browser-1t"
    assert parse_runtime("browser-2").name == "browser-2t"


def test_cli_bench_names_catalog_precisions_and_recipes_apart(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A recipe never takes a catalog precision's name; the results file says what ran where."""
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    ds = str(red_dataset(tmp_path / "red", 3))
    base = ["bench", "--dataset", ds, "--model", "tiny-test", "--runtime", "python-1"]
    assert main([*base, "--variants", "fp32"]) == 1
    err = capsys.readouterr().err.strip()
    assert "catalog precision 'fp32'" in err and "--precisions" in err and "\n" not in err
    assert main([*base, "--precisions", "int8-static"]) == 1
    assert "no catalog precision 'int8-static'" in capsys.readouterr().err
    assert main([*base, "--precisions", "fp32", "--variants", "fp32@64", "fp32@64"]) == 1
    assert "given twice: fp32@64" in capsys.readouterr().err

    rec = tmp_path / "results" / "r.json"
    argv = [*base[:-1], "python-1", "python-2", "--variants", "int8-weight", "--precisions",
            "fp32", "--others-limit", "2", "--record", str(rec)]  # fmt: skip
    assert main(argv) == 0
    record = read_record(rec)
    assert record.meta["command"] == "python -m segmentation " + " ".join(argv)
    assert record.meta["machine"]["cores"] >= 1 and "onnxruntime" in record.meta["versions"]
    assert [(e["name"], e["kind"]) for e in record.meta["entries"]] == [
        ("fp32", "catalog"), ("int8-weight", "recipe")]  # fmt: skip
    rows = {(r["variant"], r["runtime"]): r for r in record.summary}
    assert rows[("fp32", "python-1t")]["n"] == 3 and rows[("fp32", "python-2t")]["n"] == 2
    assert rows[("fp32", "python-1t")]["parity_min_iou"] is None  # the first runtime
    later = rows[("int8-weight", "python-2t")]
    assert later["parity_min_iou"] == 1.0 and later["parity_identical"] == 2, later
    per_image = [r for r in record.images if r["runtime"] == "python-2t"]
    assert len(per_image) == 4 and all(r["parity_max_abs"] == 0.0 for r in per_image)
    assert not list(rec.parent.glob("*.part")), "written atomically"


@pytest.mark.browser
def test_cli_bench_browser_runtime(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """`bench --runtime browser` runs the variants in real headless Chromium."""
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    ds = red_dataset(tmp_path / "red", 2)
    code = main(["bench", "--dataset", str(ds), "--model", "tiny-test",
                 "--precisions", "fp32", "--runtime", "python-1", "browser"])  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    cols = lines[0].split("\t")
    rows = {r.split("\t")[1]: dict(zip(cols, r.split("\t"), strict=True)) for r in lines[1:]}
    assert set(rows) == {"python-1t", "browser-1t"}
    # same wrapped file in both runtimes: identical accuracy against the same ground truth
    assert rows["browser-1t"]["gt_iou"] == rows["python-1t"]["gt_iou"]
    assert float(rows["browser-1t"]["latency_median_s"]) > 0


def test_cli_bench_max_pixels_option(
    tiny_model: TinyModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    root = tmp_path / "red"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    Image.fromarray(red_disc_photo(80, 64)).save(root / "images" / "r.png")
    Image.fromarray(np.zeros((64, 80), np.uint8)).save(root / "masks" / "r.png")
    args = ["bench", "--dataset", str(root), "--model", "tiny-test", "--precisions", "fp32",
            "--runtime", "python-1"]  # fmt: skip
    assert main([*args, "--max-pixels", "1000"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "r.png: image is too large" in last
    assert "--max-pixels" in last
    assert main([*args, "--max-pixels", "6000"]) == 0
    assert "fp32\tpython-1t\tred\t1" in capsys.readouterr().out
