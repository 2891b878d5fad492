"""The headless-Chromium benchmark runtime: real Chromium, real onnxruntime-web, tiny model.

Never skips: a missing Chromium, Playwright or front-end build fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.config import front_end_dir
from segmentation.evaluation.browser_runtime import BrowserRuntime, BrowserSession
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.page_server import check_front_end
from segmentation.evaluation.runner import PythonRuntime, entry_for, run_benchmark
from segmentation.images import load_image
from segmentation.store import ensure_wrapped
from tests.tinymodel import build_tiny_model, red_square_rgba

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def wrapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, object]]:
    root = tmp_path_factory.mktemp("bench-browser")
    mp = pytest.MonkeyPatch()
    mp.setenv("PIXEL_LIBERATION_CACHE", str(root / "cache"))
    _, spec = build_tiny_model(root / "tiny.onnx")
    yield ensure_wrapped(spec), spec
    mp.undo()


@pytest.fixture(scope="module")
def session() -> Iterator[BrowserSession]:
    check_front_end(front_end_dir())  # a clear error when the front end is not built
    with BrowserSession(threads=1) as s:
        yield s


def _photo() -> np.ndarray:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return load_image(Image.open(f).convert("RGB")).pixels


def test_browser_masks_equal_onnxruntime_and_timings_are_positive(
    wrapped: tuple[Path, object], session: BrowserSession
) -> None:
    path, _ = wrapped
    info = session.load(path)
    assert info.session_create_s > 0 and info.threads == 1 and info.execution_provider == "wasm"
    native = PythonRuntime(1).load(path)
    for rgba in (red_square_rgba(96, 128, 24), _photo()):
        run = session.run(rgba, repeats=2)
        expected = native(rgba)
        assert run.mask.shape == rgba.shape[:2]
        np.testing.assert_array_equal(run.mask, expected)
        assert len(run.inference_s) == 2 and run.min_s > 0 and run.median_s >= run.min_s
        assert run.stable and run.cpu_s is not None and run.cpu_s > 0
    # the red detector really found the square (masks are not trivially equal)
    square = session.run(red_square_rgba(96, 128, 24)).mask
    assert square[48, 64] > 200 and square[5, 5] < 50


def test_bad_pixels_are_named(session: BrowserSession) -> None:
    with pytest.raises(ValueError, match=r"RGBA \[H, W, 4\]"):
        session.run(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        session.run(np.zeros((8, 8, 4), np.float32))


def test_runtime_plugs_into_the_benchmark_with_threads(
    wrapped: tuple[Path, object], tmp_path: Path
) -> None:
    _, spec = wrapped
    root = tmp_path / "red"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        h, w, m = 64 + 16 * i, 80, 12
        Image.fromarray(red_square_rgba(h, w, m)[..., :3]).save(root / "images" / f"r{i}.png")
        gt = np.zeros((h, w), np.uint8)
        gt[m : h - m, m : w - m] = 255
        Image.fromarray(gt).save(root / "masks" / f"r{i}.png")
    with BrowserRuntime(threads=2) as browser:
        result = run_benchmark(
            [entry_for(spec, "fp32")], [load_dataset(root)], [PythonRuntime(1), browser],
            repeats=2, saliency=False, progress=False,
        )  # fmt: skip
        caps = browser.session.caps()
    rows = {r["runtime"]: r for r in result.summary}
    web = rows["browser-2t"]
    assert web["ref_iou"] == 1.0 and web["ref_mae"] == 0.0 and web["gt_iou"] > 0.9
    assert 0 < web["latency_min_s"] <= web["latency_median_s"] and web["load_s"] > 0
    # the runner's page is cross-origin isolated, so onnxruntime-web may use threads
    assert caps["crossOriginIsolated"] and caps["threads"]


def test_server_serves_only_what_is_registered_and_stops_when_idle(tmp_path: Path) -> None:
    import time
    import urllib.error
    import urllib.request

    from segmentation.evaluation.page_server import BenchServer

    server = BenchServer(idle_timeout_s=1.0)
    try:
        (tmp_path / "f.bin").write_bytes(b"x" * 3_000_000)
        url = server.add("/f", tmp_path / "f.bin")
        with urllib.request.urlopen(url) as res:
            assert len(res.read()) == 3_000_000
            assert res.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(server.url + "/etc/passwd")
        with pytest.raises(FileNotFoundError, match="no such file"):
            server.add("/g", tmp_path / "missing")
        deadline = time.monotonic() + 20
        while server.running and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not server.running
        with pytest.raises(OSError):  # refused or reset: nobody serves it any more
            urllib.request.urlopen(url, timeout=5)
    finally:
        server.close()
