"""The widget-versus-imgly benchmark's pure parts: no npm registry, no imgly install needed.

The real imgly run is the benchmark script itself (python -m widget.bench imgly); CI never
installs imgly. Here: the table and its ratios, the photo, install errors, the
local server, and the esbuild bundling step with a stand-in package.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from segmentation.evaluation.cpu_time import cpu_s_since, tree_cpu
from segmentation.evaluation.imgly.browser import ImglyServer, outside_requests, png_alpha
from segmentation.evaluation.imgly.install import (
    ImglyUnavailableError,
    _ensure,
    bundle,
    node_modules_of,
)
from segmentation.evaluation.imgly.report import (
    IMGLY,
    OURS,
    Row,
    format_table,
    photo_at,
    ratio,
    verdict,
)

ROWS = [
    Row(IMGLY, "medium", "cold", 20.0, 16.0, 12.0),
    Row(IMGLY, "medium", "warm", 10.0, 8.0, 9.0),
    Row(OURS, "fp16 auto", "cold", 30.0, 12.0, 6.0, 2.0, 1.0, 40.0, 3.5, "equal within 1 level"),
    Row(OURS, "fp16 auto", "warm", 5.0, 6.0, 4.0, 2.0, 5.0, 5.0, 0.1, "identical"),
]


def test_table_has_ratios_against_the_same_run_kind() -> None:
    lines = format_table(ROWS, "medium").splitlines()
    assert "e2e/medium" in lines[0]
    cold = next(line for line in lines if line.startswith("ours") and "cold" in line).split()
    warm = next(line for line in lines if line.startswith("ours") and "warm" in line).split()
    assert cold[-2:] == ["1.50", "0.75"]  # 30/20 and 12/16
    assert warm[-2:] == ["0.50", "0.75"]  # 5/10 and 6/8
    assert cold[-3] == "rounding" and warm[-3] == "identical"  # parity, shortened
    assert cold[4:9] == ["1.0", "30.0", "40.0", "12.0", "3.5"]  # first, cut-out, own, CPU, kernel
    imgly = next(line for line in lines if line.startswith("imgly")).split()
    assert imgly[-1] == "-"  # imgly rows carry no parity nor ratios to themselves


def test_ratio_and_verdict() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(3.0, 0.0)) and math.isnan(ratio(math.nan, 1.0))
    assert "ours fp16 auto beats imgly medium" in verdict(ROWS, "fp16 auto", "medium", "warm")
    assert "does NOT beat" in verdict(ROWS, "fp16 auto", "medium", "cold")
    assert verdict(ROWS, "fp32", "medium").startswith("no warm runs")


def test_photo_is_centre_cropped_to_the_size(tmp_path: Path) -> None:
    src = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    out = photo_at(src, tmp_path / "p.jpg", (480, 360))
    with Image.open(out) as im:
        assert im.size == (480, 360) and im.format == "JPEG"
    with pytest.raises(ValueError, match="size must be positive"):
        photo_at(src, tmp_path / "q.jpg", (0, 360))


def test_missing_package_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path))
    with pytest.raises(ImglyUnavailableError, match="npm install --prefix"):
        _ensure("@pixel-liberation/absent", "0.0.0", install=False)
    monkeypatch.setenv("PIXEL_LIBERATION_OFFLINE", "1")
    with pytest.raises(ImglyUnavailableError, match=r"could not install .*absent@0\.0\.0"):
        _ensure("@pixel-liberation/absent", "0.0.0", install=True)


def test_node_modules_of_a_scoped_package(tmp_path: Path) -> None:
    pkg = tmp_path / "node_modules" / "@imgly" / "background-removal"
    assert node_modules_of(pkg) == tmp_path / "node_modules"
    with pytest.raises(ValueError, match="not inside a node_modules"):
        node_modules_of(tmp_path / "x")


def test_outside_requests_and_png_alpha(tmp_path: Path) -> None:
    base = "http://127.0.0.1:5000"
    urls = [f"{base}/", f"{base}/data/x", "blob:http://127.0.0.1:5000/abc",
            "https://staticimgly.com/x", "http://127.0.0.10:5000/y"]  # fmt: skip
    assert outside_requests(urls, base) == urls[3:]
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 3] = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(png_alpha((tmp_path / "a.png").read_bytes()), rgba[..., 3])


def test_server_serves_data_files_only(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "resources.json").write_text("{}")
    (tmp_path / "secret").write_text("no")
    js = tmp_path / "b.js"
    js.write_text("1")
    with ImglyServer(js, dist, {"p.jpg": js}) as server:
        with urllib.request.urlopen(server.url + "/data/resources.json") as r:
            assert r.read() == b"{}"
            assert (
                r.headers["Cross-Origin-Embedder-Policy"] is None
            )  # not isolated, like a notebook
        for bad in ("/data/../secret", "/data/%2e%2e/secret", "/data/", "/elsewhere"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(server.url + bad)
            assert err.value.code == 404


def test_bundle_resolves_the_package_from_its_node_modules(tmp_path: Path) -> None:
    pkg = tmp_path / "node_modules" / "@imgly" / "background-removal"
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text('{"name": "@imgly/background-removal", "module": "i.mjs"}')
    (pkg / "i.mjs").write_text("export async function removeBackground() { return 'stand-in'; }")
    out = bundle(pkg, tmp_path / "out")
    text = out.read_text()
    assert "stand-in" in text and "imglyBench" in text


def test_cpu_seconds_are_per_process_and_never_negative() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    before = tree_cpu(None, "python")
    done = subprocess.run([sys.executable, "-c", busy + "import sys; sys.stdin.read()"],
                          input="", text=True, check=True)  # fmt: skip
    assert done.returncode == 0
    # the child exited: its CPU is gone from the sum, which must not go below zero
    assert cpu_s_since({**before, 2**30: 1e6}, "python") >= 0.0
    child = subprocess.Popen([sys.executable, "-c", busy + "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE, text=True)  # fmt: skip
    try:
        start = tree_cpu(None, "python")
        assert child.pid in start
        time.sleep(1.0)
        assert cpu_s_since(before, "python") >= 0.3  # the live child's busy loop counts
    finally:
        child.communicate("")
