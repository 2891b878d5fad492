"""The headless benchmark page serves the front end it is given, and says which file is missing."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from segmentation.config import front_end_dir
from segmentation.evaluation.page_server import check_front_end, open_bench_page


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
