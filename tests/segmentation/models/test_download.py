"""download(): pooch against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from segmentation.config import CACHE_ENV, cache_dir
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.models.download import download
from segmentation.models.spec import UrlSource
from tests._fetch_helpers import Route, closed_port, files_in, serve, sha256_bytes, tiny_onnx_bytes

MODEL = tiny_onnx_bytes(size=16, seed=1)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return cache_dir()


def _dest(cache: Path) -> Path:
    return cache / "models" / "tiny-fp32.onnx"


def test_download_then_cache_hit(cache: Path) -> None:
    with serve() as srv:
        srv.routes["/m.onnx"] = Route(MODEL)
        src = UrlSource(srv.url("/m.onnx"), sha256_bytes(MODEL), size=len(MODEL))
        path = download(src, _dest(cache))
        assert path == _dest(cache)
        assert path.read_bytes() == MODEL
        onnx.checker.check_model(onnx.load(str(path)))
        assert srv.requests == ["/m.onnx"]
        again = download(src, _dest(cache))
        assert again == path
        assert srv.requests == ["/m.onnx"], "a verified cached file must not be fetched again"
    assert files_in(cache) == ["models/tiny-fp32.onnx"]


def test_md5_only_source(cache: Path) -> None:
    import hashlib

    with serve() as srv:
        srv.routes["/m.onnx"] = Route(MODEL)
        src = UrlSource(srv.url("/m.onnx"), md5=hashlib.md5(MODEL).hexdigest())
        assert download(src, _dest(cache)).read_bytes() == MODEL


def test_http_404(cache: Path) -> None:
    with serve() as srv:
        src = UrlSource(srv.url("/missing.onnx"), sha256_bytes(MODEL))
        with pytest.raises(ModelNotFoundError, match=r"HTTP 404.*download .*missing\.onnx"):
            download(src, _dest(cache))
        assert srv.requests == ["/missing.onnx"]
    assert files_in(cache) == []


def test_truncated_body(cache: Path) -> None:
    with serve() as srv:
        srv.routes["/m.onnx"] = Route(MODEL, truncate_to=len(MODEL) // 2)
        src = UrlSource(srv.url("/m.onnx"), sha256_bytes(MODEL))
        with pytest.raises(ModelIntegrityError, match="cut short"):
            download(src, _dest(cache))
    assert files_in(cache) == [], "nothing half-written may remain"


def test_wrong_checksum(cache: Path) -> None:
    other = tiny_onnx_bytes(size=16, seed=2)
    with serve() as srv:
        srv.routes["/m.onnx"] = Route(other)
        src = UrlSource(srv.url("/m.onnx"), sha256_bytes(MODEL))
        with pytest.raises(ModelIntegrityError, match="fails its checksum"):
            download(src, _dest(cache))
    assert files_in(cache) == []


def test_stale_cached_file_is_replaced(cache: Path) -> None:
    dest = _dest(cache)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(MODEL[:100])
    with serve() as srv:
        srv.routes["/m.onnx"] = Route(MODEL)
        download(UrlSource(srv.url("/m.onnx"), sha256_bytes(MODEL)), dest)
        assert srv.requests == ["/m.onnx"]
    assert dest.read_bytes() == MODEL


def test_offline(cache: Path) -> None:
    port = closed_port()
    src = UrlSource(f"http://127.0.0.1:{port}/m.onnx", sha256_bytes(MODEL))
    with pytest.raises(ModelNotFoundError, match="cannot reach") as info:
        download(src, _dest(cache))
    assert str(_dest(cache)) in str(info.value)
    assert files_in(cache) == []


def test_url_source_needs_a_checksum() -> None:
    with pytest.raises(ValueError, match="sha256 or an md5"):
        UrlSource("http://127.0.0.1/m.onnx")


def test_offline_env_blocks_network_but_serves_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmentation.config import OFFLINE_ENV

    with serve() as srv:
        srv.routes["/m.onnx"] = Route(MODEL)
        src = UrlSource(srv.url("/m.onnx"), sha256_bytes(MODEL))
        monkeypatch.setenv(OFFLINE_ENV, "1")
        with pytest.raises(ModelNotFoundError, match=OFFLINE_ENV):
            download(src, _dest(cache))
        assert srv.requests == []
        monkeypatch.delenv(OFFLINE_ENV)
        download(src, _dest(cache))
        monkeypatch.setenv(OFFLINE_ENV, "1")
        assert download(src, _dest(cache)).read_bytes() == MODEL
        assert srv.requests == ["/m.onnx"]
