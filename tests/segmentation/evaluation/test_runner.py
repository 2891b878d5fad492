"""The benchmark runner, its plots and CLI on the tiny model and a synthetic dataset."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.cli.bench import parse_runtime
from segmentation.cli.main import main
from segmentation.config import front_end_dir
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.entries import plan_entries, without_calibration
from segmentation.evaluation.page_server import check_front_end, open_bench_page
from segmentation.evaluation.plots import (
    pareto_front,
    plot_tradeoff,
    save_report_plots,
    worst_cases,
)
from segmentation.evaluation.record import read_record, write_record
from segmentation.evaluation.runner import Entry, PythonRuntime, entry_for, run_benchmark
from segmentation.evaluation.variants import build_variant
from segmentation.models import registry as catalog
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))


def _red_dataset(root: Path, count: int = 4) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(count):
        h, w, margin = 64 + 8 * i, 80, 10 + 2 * i
        Image.fromarray(red_square_rgba(h, w, margin)[..., :3]).save(root / "images" / f"r{i}.png")
        gt = np.zeros((h, w), np.uint8)
        gt[margin : h - margin, margin : w - margin] = 255
        Image.fromarray(gt).save(root / "masks" / f"r{i}.png")
    return root


def _grey(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [folder / f"g{i}.png" for i in range(2)]
    for i, p in enumerate(paths):
        Image.fromarray(np.full((40, 40, 3), 90 + 40 * i, np.uint8)).save(p)
    return paths


def test_benchmark_rows_metrics_and_files(tiny_model: TinyModel, tmp_path: Path) -> None:
    ds = load_dataset(_red_dataset(tmp_path / "red"))
    weight = build_variant(tiny_model.spec, "int8-weight")
    broken = build_variant(tiny_model.spec, "int8-calibrated-minmax-qhead", _grey(tmp_path / "g"))
    entries = [Entry(v.name, v.spec, v.size_bytes) for v in (weight, broken)] + [
        entry_for(tiny_model.spec, "fp32")
    ]
    result = run_benchmark(
        entries, [ds], [PythonRuntime(1), PythonRuntime(2)], reference="fp32",
        repeats=2, keep_masks=True, progress=False,
    )  # fmt: skip
    assert len(result.summary) == 6 and len(result.images) == 6 * len(ds)
    rows = {(r["variant"], r["runtime"]): r for r in result.summary}
    ref = rows[("fp32", "python-1t")]
    assert ref["ref_iou"] == 1.0 and ref["gt_iou"] > 0.9 and ref["blank"] == 0
    assert ref["latency_min_s"] <= ref["latency_median_s"]
    assert rows[("int8-weight", "python-2t")]["ref_iou"] > 0.95
    bad = rows[(broken.name, "python-1t")]
    assert bad["blank"] == len(ds) and bad["gt_iou"] < 0.5
    assert len(result.masks) == 3 * len(ds)
    assert worst_cases(result, "fp32", k=2)[0]["gt_iou"] <= worst_cases(result, "fp32")[1]["gt_iou"]
    js, cs = result.save(tmp_path / "out")
    assert len(json.loads(js.read_text())["summary"]) == 6
    assert cs.read_text().splitlines()[0].startswith("variant,runtime,dataset")
    assert len(result.dataframe()) == 6
    plots = save_report_plots(result, tmp_path / "out", [ds])
    assert len(plots) == 2 + 3 and all(p.stat().st_size > 1000 for p in plots)


def test_benchmark_refuses_an_unknown_reference(tiny_model: TinyModel, tmp_path: Path) -> None:
    ds = load_dataset(_red_dataset(tmp_path / "red", 1))
    with pytest.raises(ValueError, match="reference 'nope'"):
        run_benchmark([entry_for(tiny_model.spec)], [ds], reference="nope", progress=False)


def test_pareto_front_by_hand() -> None:
    cost = [1.0, 2.0, 3.0, 2.5, 1.0]
    gain = [0.5, 0.9, 0.95, 0.8, 0.4]
    assert pareto_front(cost, gain) == [0, 1, 2]  # 3 is beaten by 1, 4 by 0


def test_cli_quantize_and_bench(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    assert main(["quantize", "tiny-test", "--to", "int8-weight", "fp16"]) == 0
    out = capsys.readouterr().out
    assert "int8-weight" in out and "fp16" in out and ".onnx" in out
    ds = _red_dataset(tmp_path / "red", 2)
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
    ds = str(_red_dataset(tmp_path / "red", 3))
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


def test_dataset_pairs_masks_by_name_or_says_which_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _red_dataset(tmp_path / "red", 3)
    (root / "masks" / "r1.png").rename(root / "masks" / "r1_mask.png")
    (root / "masks" / "r2.png").rename(root / "masks" / "r2.mask.png")
    ds = load_dataset(root)
    assert [(s.stem, s.mask_path.name) for s in ds] == [
        ("r0", "r0.png"), ("r1", "r1_mask.png"), ("r2", "r2.mask.png")]  # fmt: skip
    (root / "masks" / "r2.mask.png").rename(root / "masks" / "other.png")
    assert main(["bench", "--dataset", str(root), "--runtime", "python-1"]) == 1
    err = capsys.readouterr().err.strip()
    assert "do not pair up" in err and "1 image(s) without a mask [r2]" in err, err
    assert "1 mask(s) without an image [other]" in err and "\n" not in err


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


@pytest.mark.browser
def test_cli_bench_browser_runtime(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """`bench --runtime browser` runs the variants in real headless Chromium."""
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    ds = _red_dataset(tmp_path / "red", 2)
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


def test_tradeoff_labels_do_not_collide_and_the_default_is_marked() -> None:
    """Five variants within a hair of each other still get five readable labels."""
    rows = [{"variant": f"variant-{i}", "dataset": "d", "size_mb": 40 + i * 0.5,
             "gt_iou": 0.9 + i * 0.001} for i in range(5)]  # fmt: skip
    fig = plot_tradeoff(rows, default="variant-2")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert sorted(t.get_text() for t in ax.texts) == [r["variant"] for r in rows]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert any("default (variant-2)" in t.get_text() for t in ax.get_legend().get_texts())


def test_calibration_images_are_left_out_of_the_measured_ones(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    """A recipe calibrated on a dataset's photos is not scored on those photos."""
    root = _red_dataset(tmp_path / "red", 4)
    ds = load_dataset(root)
    calib = [s.image_path for s in ds.samples[2:]]
    plan = plan_entries("tiny-test", ["fp32"], ["int8-calibrated"], calib,
                        registry=tiny_model.registry)  # fmt: skip
    assert plan.kinds == {"fp32": "catalog", "int8-calibrated-entropy-pc": "recipe"}
    assert plan.calibration == tuple(calib)
    (kept,) = without_calibration([ds], plan)
    assert [s.stem for s in kept] == ["r0", "r1"]
    only = load_dataset(root).pick(["r2", "r3"])
    with pytest.raises(ValueError, match="every image is a calibration image"):
        without_calibration([only], plan)
    with pytest.raises(ValueError, match="has no image named nope"):
        ds.pick(["r0", "nope"])


def test_the_benchmark_page_serves_the_front_end_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page serves the folder it is handed; a folder without the build fails in one line."""
    built = front_end_dir()
    server, wasm = open_bench_page(built, idle_timeout_s=60)
    with server, urllib.request.urlopen(server.url + "/bench.js", timeout=10) as answer:
        assert answer.read() == (built / "bench.js").read_bytes()
        assert wasm["url"] == server.url + "/ort.wasm"

    monkeypatch.setenv("PIXEL_LIBERATION_FRONT_END", str(tmp_path))
    assert front_end_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=r"bench\.js is missing: .*FRONT_END"):
        open_bench_page(front_end_dir())
    (tmp_path / "bench.js").write_text("export {};")
    with pytest.raises(FileNotFoundError, match=r"ort-wasm-simd-threaded\.wasm is missing"):
        check_front_end(tmp_path)
