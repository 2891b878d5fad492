"""Smoke runs of every benchmark of ``python -m widget.bench``.

Each benchmark runs for real, as a user runs it (``python -m widget.bench NAME`` in a
subprocess of the project's Python), on the smallest case that still goes through its whole
path: the tiny test model where the benchmark takes ``--model-spec``, else IS-Net on one
image and one repetition. The test then reads the table the benchmark printed and checks its
values are sane (present, finite, in range), so a benchmark cannot rot unnoticed. Timings
are never compared with a target here.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tinymodel import write_tiny_spec_file
from widget.bench.__main__ import BENCHMARKS
from widget.bench.memory import TARGET_MISSED

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSON spec file naming the tiny model (what ``--model-spec`` reads)."""
    return write_tiny_spec_file(tmp_path_factory.mktemp("tiny-spec"))


def run_bench(
    name: str, *args: str | Path, timeout: float = 600, ok: tuple[int, ...] = (0,)
) -> str:
    """Run ``python -m widget.bench NAME`` with ``args``; return its stdout, failing with its
    stderr's tail unless its exit status is in ``ok``."""
    cmd = [sys.executable, "-m", "widget.bench", name, *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
    assert proc.returncode in ok, f"{name} exited {proc.returncode}:\n{tail}\n{proc.stdout[-2000:]}"
    return proc.stdout


def table_rows(out: str, first: str) -> list[list[str]]:
    """Rows (split on whitespace) of the printed table whose first cell starts with ``first``."""
    return [line.split() for line in out.splitlines() if line.startswith(first)]


def numbers(cells: list[str]) -> list[float]:
    """The cells that are numbers, as floats ("-" and words skipped)."""
    out = []
    for c in cells:
        try:
            out.append(float(c.rstrip("%x")))
        except ValueError:
            continue
    return out


def positive(values: list[float]) -> bool:
    """Whether every value is finite and > 0."""
    return bool(values) and all(math.isfinite(v) and v > 0 for v in values)


# ----------------------------------------------------------------------------- kernel only
@pytest.mark.isnet
def test_bench_pipeline() -> None:
    out = run_bench("pipeline", "--precision", "int8-static", "--threads", "1",
                     "--repeats", "1")  # fmt: skip
    rows = table_rows(out, "int8-static")
    assert len(rows) == 2, out  # the sample photo and its 12 MP upscale
    for row in rows:
        wall_full, wall_bare = float(row[6]), float(row[9])  # "wall / cpu" cells
        assert wall_full > 0 and wall_bare > 0, row


@pytest.mark.isnet
def test_bench_big_photo() -> None:
    out = run_bench("big-photo", "--big", "800x600", "--normal", "320x240",
                     "--threads", "1")  # fmt: skip
    rows = [line.split() for line in out.splitlines() if line.startswith(("mask ", "cutout "))]
    assert [(r[0], r[-1]) for r in rows] == [
        ("mask", "800x600"), ("cutout", "800x600"), ("mask", "320x240"), ("cutout", "320x240")
    ], out  # fmt: skip
    for r in rows:
        model_mb, peak_mb = float(r[4]), float(r[5])
        assert 0 < model_mb <= peak_mb < 4000, r


def test_bench_scale(tiny_spec: Path) -> None:
    out = run_bench("scale", "--count", "2", "--workers", "2", "--model-spec", tiny_spec)
    rows = {r[0]: r for r in (line.split("\t") for line in out.splitlines()) if len(r) == 8}
    assert set(rows) >= {"1 process", "pool", "dask"}, out
    for config in ("1 process", "pool", "dask"):
        r = rows[config]
        assert r[2] == "2", r  # both images written
        assert float(r[4]) > 0 and float(r[6]) > 0, r  # images/s, worker peak MiB
    assert "same output bytes in every configuration: yes" in out


# ----------------------------------------------------------------------------- browser
@pytest.mark.browser
def test_bench_widget(tiny_spec: Path) -> None:
    out = run_bench("widget", "--model-spec", tiny_spec, "--timeout", "300")
    rows = table_rows(out, "spec:tiny-test")
    assert [r[1] for r in rows] == ["cold", "warm", "cached"], out
    for r in rows:
        inference, kernel, first, full = float(r[2]), float(r[4]), float(r[6]), float(r[7])
        assert inference > 0 and kernel > 0 and 0 < first <= full, r
    assert float(rows[1][3]) == 0, "the warm run created a session again"
    assert float(rows[2][3]) > 0, "the new page had no session to make"


@pytest.mark.browser
@pytest.mark.isnet
def test_bench_imgly(tiny_spec: Path) -> None:
    out = run_bench("imgly", "--model-spec", tiny_spec, "--imgly-models", "small",
                     "--timeout", "300")  # fmt: skip
    imgly = table_rows(out, "imgly  small")
    assert [r[2] for r in imgly] == ["cold", "warm"], out
    for r in imgly:
        assert positive(numbers(r[4:6])), r  # cut-out (e2e), CPU
    for policy in ("auto", "browser"):
        ours = [r for r in table_rows(out, f"ours   spec:tiny-test {policy}") if len(r) > 12]
        assert [r[3] for r in ours] == ["cold", "warm"], (policy, out)
        for r in ours:
            first, cut_out, own = float(r[4]), float(r[5]), float(r[6])
            assert 0 < first <= cut_out <= own + 0.5, r  # own is read after the drawn cut-out
            assert r[-3] in ("identical", "rounding"), r  # the browser's mask is the kernel's
            assert positive(numbers(r[-2:])), r  # ratios against imgly small
    assert re.search(r"^IoU ours spec:tiny-test auto vs imgly small \d\.\d{3}$", out, re.M), out
    engine = table_rows(out, "ours   spec:tiny-test engine")
    assert len(engine) == 1, out


@pytest.mark.browser
def test_bench_batch(tiny_spec: Path) -> None:
    out = run_bench("batch", "--count", "2", "--model-spec", tiny_spec,
                     "--timeout", "300")  # fmt: skip
    rows = {r[0]: r for r in (line.split() for line in out.splitlines()) if r}
    for run in ("warm-up", "pool"):
        assert run in rows, out
        assert positive(numbers(rows[run][2:7])), rows[run]
    assert positive(numbers(rows["1"][2:7])), rows["1"]  # "1 worker": the row splits in two
    assert "speed-up of the pool" in out


@pytest.mark.browser
def test_bench_browser_speed(tiny_spec: Path) -> None:
    out = run_bench("browser-speed", "--previews", "--resolutions", "--limit", "0",
                     "--model-spec", tiny_spec, "--timeout", "300")  # fmt: skip
    modes = [line for line in out.splitlines() if line.startswith(("kernel", "browser"))]
    assert [m.split("  ")[0].strip() for m in modes] == [
        "kernel 2 threads @64", "browser 1 thread", "browser N threads"
    ], out  # fmt: skip
    for line in modes[1:]:
        cells = line.split()
        first, full, iou = float(cells[-5]), float(cells[-4]), float(cells[-1])
        assert 0 < first <= full and iou == 1.0, line


@pytest.mark.browser
def test_bench_memory() -> None:
    # a missed target (exit TARGET_MISSED) is a measurement, not a broken benchmark: two
    # runs of a tiny model are too few for the per-widget figure to mean much
    out = run_bench("memory", "--model", "tiny", "--runs", "2", "--photos", "2",
                     "--megapixels", "0.2", "--settle", "0", "--timeout", "300",
                     ok=(0, TARGET_MISSED))  # fmt: skip
    assert re.search(r"^measure\s+value\s+target\s+met$", out, re.M), out
    assert re.search(r"^renderer RSS run 1 / run N \(MiB\)\s+\d+ / \d+", out, re.M), out
    assert re.search(r"^batch: masks by backend\s+\{'browser': 2\}", out, re.M), out
    peak = re.search(r"^batch: peak kernel RSS \(MiB\)\s+(\d+)", out, re.M)
    assert peak and 0 < int(peak[1]) < 4000, out


@pytest.mark.browser
@pytest.mark.isnet
def test_bench_record(tmp_path: Path) -> None:
    out_file = tmp_path / "record.json"
    run_bench("record", "--limit", "1", "--threads", "1",
               "--precisions", "int8-static", "--repeats", "1", "--out", out_file)  # fmt: skip
    record = json.loads(out_file.read_text())
    rows = record["summary"]
    assert {r["runtime"] for r in rows} == {"browser-tab-1t", "python-1t", "python-2t"}, rows
    for r in rows:
        assert r["n"] == 2 and r["latency_median_s"] > 0, r  # one photo of each dataset
    browser = next(r for r in rows if r["runtime"] == "browser-tab-1t")
    assert browser["parity_min_iou"] >= 0.999 and browser["pixels_match"], browser


@pytest.mark.browser
def test_bench_editor_ops() -> None:
    out = run_bench("editor-ops", "--width", "400", "--height", "300", "--repeat", "1")
    rows = [line.split() for line in out.splitlines() if line.startswith(("invert", "reset"))]
    assert len(rows) == 2, out
    for r in rows:
        wall, longest, blocking = (float(v) for v in r[-3:])
        assert wall > 0 and longest >= 0 and blocking >= 0, r


@pytest.mark.browser
def test_bench_product(tmp_path: Path) -> None:
    out_file = tmp_path / "smoke.json"
    out = run_bench("product", "--smoke", "--json", out_file)
    assert "| kernel         | amazon" in out and "| browser worker | amazon" in out, out
    report = json.loads(out_file.read_text())
    speed = report["speed"]
    presets = ("amazon", "shopify", "transparent")
    wanted = {(where, p) for where in ("kernel", "browser worker") for p in presets}
    assert {(r["where"], r["preset"]) for r in speed} == wanted, speed
    assert all(r["total_s"] > 0 for r in speed)
    (q,) = report["quality"]
    assert q["soft_px"] > 100 and q["mae_soft_decont"] < 0.5 * q["mae_soft_raw"]


def test_every_benchmark_has_a_smoke_run_here() -> None:
    """A benchmark added to ``python -m widget.bench`` gets a smoke run in this file."""
    source = Path(__file__).read_text()
    missing = [name for name in BENCHMARKS if f'run_bench("{name}"' not in source]
    assert missing == []


def test_the_list_names_every_benchmark() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "widget.bench"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    listed = [line.split()[0] for line in out.stdout.splitlines() if line.startswith("  ")]
    assert listed == list(BENCHMARKS)
    bad = subprocess.run(
        [sys.executable, "-m", "widget.bench", "no-such-benchmark"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown benchmark 'no-such-benchmark'" in bad.stderr


def test_every_cited_command_names_a_benchmark_and_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each ``python -m widget.bench NAME --opt ...`` in the README, docs/ and the Makefile is a
    benchmark that takes those options: the commands that reproduce a figure do not rot."""
    texts = [ROOT / "README.md", ROOT / "Makefile", *sorted((ROOT / "docs").glob("*.md"))]
    cited: dict[str, set[str]] = {}
    command = re.compile(r"python -m widget\.bench ([a-z-]+)([^`\n]*)")
    for path in texts:
        for name, rest in command.findall(path.read_text()):
            cited.setdefault(name, set()).update(re.findall(r"(?<!\S)(--[a-z-]+)", rest))
    assert {"record", "browser-speed", "imgly"} <= cited.keys(), "the README's figures"
    for name, options in cited.items():
        assert name in BENCHMARKS, f"docs cite an unknown benchmark {name!r}"
        with pytest.raises(SystemExit) as done:
            BENCHMARKS[name][0].main(["--help"])
        assert done.value.code == 0
        usage = capsys.readouterr().out
        missing = [opt for opt in options if f"{opt} " not in usage and f"{opt}\n" not in usage]
        assert missing == [], (name, missing)
