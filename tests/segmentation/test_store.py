"""ensure_model / ensure_wrapped / fetch_defaults: user files, damaged caches, real IS-Net."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from segmentation.config import CACHE_ENV, cache_dir
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.models.integrity import read_sidecar, verify_model
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import UrlSource
from segmentation.store import ensure_model, ensure_wrapped, fetch_defaults, model_path
from tests._fetch_helpers import Route, isnet_cache, serve, sha256_bytes, tiny_onnx_bytes, tiny_spec


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return cache_dir()


def _run_wrapped(path: Path, rgba: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["pixels", "resolution"]
    return sess.run(["mask"], {"pixels": rgba, "resolution": np.array([64, 64], np.int64)})[0]


def _rgba(h: int = 5, w: int = 7) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    img[..., 3] = 255
    img[0, :, 3] = 0  # a transparent top row
    return img


def test_register_file_and_wrap(tmp_path: Path, cache: Path) -> None:
    user = tmp_path / "mine.onnx"
    user.write_bytes(tiny_onnx_bytes())
    registry = Registry()
    spec = registry.register_file(user, tiny_spec(input_name="", output_name=""))
    assert (spec.input_name, spec.output_name) == ("input", "output")
    assert registry.get("tiny", "fp32") is spec
    assert ensure_model(spec, registry=registry) == user.resolve()
    assert not (user.parent / "mine.onnx.json").exists(), "never write next to a user's file"
    wrapped = ensure_wrapped(spec, registry=registry)
    assert wrapped.parent == cache / "wrapped"
    mask = _run_wrapped(wrapped, _rgba())
    assert mask.shape == (5, 7)
    assert mask.dtype == np.uint8
    assert (mask[0] == 0).all(), "transparent pixels are never foreground"
    assert mask[1:].max() > mask[1:].min(), "the tiny model gives a non-constant mask"
    assert ensure_wrapped(spec, registry=registry) == wrapped


def test_register_file_errors(tmp_path: Path) -> None:
    registry = Registry()
    with pytest.raises(ModelNotFoundError, match="not found"):
        registry.register_file(tmp_path / "nope.onnx", tiny_spec())
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07this is not protobuf" * 10)
    with pytest.raises(ModelIntegrityError, match="not a valid ONNX model"):
        registry.register_file(junk, tiny_spec())
    good = tmp_path / "good.onnx"
    good.write_bytes(tiny_onnx_bytes())
    with pytest.raises(ValueError, match=r"no input 'pixels_in' \(it has \['input'\]\)"):
        registry.register_file(good, tiny_spec(input_name="pixels_in"))
    assert len(registry) == 0


def test_wrapped_file_damaged_is_rebuilt(tmp_path: Path, cache: Path) -> None:
    user = tmp_path / "mine.onnx"
    user.write_bytes(tiny_onnx_bytes())
    registry = Registry()
    spec = registry.register_file(user, tiny_spec())
    wrapped = ensure_wrapped(spec, registry=registry)
    good = wrapped.read_bytes()
    wrapped.write_bytes(good[: len(good) // 2])
    assert ensure_wrapped(spec, registry=registry) == wrapped
    assert wrapped.read_bytes() == good


def test_url_model_end_to_end(cache: Path) -> None:
    body = tiny_onnx_bytes(seed=5)
    with serve() as srv:
        srv.routes["/tiny.onnx"] = Route(body)
        src = UrlSource(srv.url("/tiny.onnx"), sha256_bytes(body), size=len(body))
        spec = tiny_spec(name="tiny-url", input_name="", output_name="").with_sources(src)
        registry = Registry([spec])
        wrapped = ensure_wrapped(spec, registry=registry)
        assert srv.requests == ["/tiny.onnx"]
    bare = model_path(spec)
    assert bare == cache / "models" / "tiny-url-fp32.onnx"
    assert read_sidecar(bare)["sha256"] == sha256_bytes(body)  # type: ignore[index]
    meta = json.loads(wrapped.with_suffix(".json").read_text())
    assert (meta["input"], meta["output"]) == ("input", "output")
    assert _run_wrapped(wrapped, _rgba()).shape == (5, 7)


def test_garbage_cached_file_fails_the_checksum_of_its_download(cache: Path) -> None:
    src = UrlSource("http://127.0.0.1:9/never.onnx", md5="0" * 32)
    spec = tiny_spec(name="junk").with_sources(src)
    dest = model_path(spec)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"\x12\x34garbage" * 100)
    with pytest.raises(ModelIntegrityError, match=r"corrupt.*its md5 .*rm .*junk-fp32\.onnx"):
        ensure_model(spec, registry=Registry([spec]))
    assert read_sidecar(dest) is None, "an unverified hash is never recorded"


@pytest.mark.isnet
def test_truncated_cached_isnet(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> None:
    real = isnet_cache(tmp_path_factory.getbasetemp(), "fp16") / "models"
    name = "isnet-general-use-fp16.onnx"
    (cache / "models").mkdir(parents=True)
    shutil.copy(real / f"{name}.json", cache / "models" / f"{name}.json")
    with (real / name).open("rb") as f:
        (cache / "models" / name).write_bytes(f.read(1 << 20))
    spec = default_registry().get("isnet-general-use", "fp16")
    with pytest.raises(
        ModelIntegrityError, match=r"corrupt or truncated.*fetch isnet-general-use:fp16`"
    ):
        ensure_model(spec)
    with pytest.raises(ModelIntegrityError):
        verify_model(spec, cache / "models" / name)
    repaired = ensure_model(spec, repair=True)
    assert repaired == cache / "models" / name
    assert repaired.stat().st_size == (real / name).stat().st_size
    assert read_sidecar(repaired) == read_sidecar(real / name) | {"spec": spec.key}


@pytest.mark.isnet
def test_npm_file_without_sidecar_checked_against_chunks(
    tmp_path_factory: pytest.TempPathFactory, cache: Path
) -> None:
    real = isnet_cache(tmp_path_factory.getbasetemp(), "int8") / "models"
    name = "isnet-general-use-int8.onnx"
    # the catalog pins this file's sha256; without the pin, the npm chunks are the truth
    spec = replace(default_registry().get("isnet-general-use", "int8"), sha256=None)
    good = (real / name).read_bytes()
    dest = cache / "models" / name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(good[: 3 << 22])  # ends exactly on a chunk boundary: still parses
    with pytest.raises(ModelIntegrityError, match=r"has 12582912 bytes but /models/small has"):
        ensure_model(spec)
    broken = bytearray(good)
    broken[5 << 20] ^= 0x01
    dest.write_bytes(bytes(broken))
    with pytest.raises(ModelIntegrityError, match=r"bytes 4194304-8388608 differ from chunk"):
        ensure_model(spec)
    dest.write_bytes(good)
    assert ensure_model(spec) == dest
    side = read_sidecar(dest)
    assert side is not None and side["sha256"] == hashlib.sha256(good).hexdigest()
    assert side["note"] == "verified against the npm chunks"


def test_repair_never_touches_a_user_file(tmp_path: Path, cache: Path) -> None:
    user = tmp_path / "mine.onnx"
    user.write_bytes(tiny_onnx_bytes())
    registry = Registry()
    spec = registry.register_file(user, tiny_spec())
    user.write_bytes(b"broken")
    with pytest.raises(ModelIntegrityError, match="replace it with a good copy"):
        ensure_model(spec, registry=registry, repair=True)
    assert user.read_bytes() == b"broken"


@pytest.mark.isnet
@pytest.mark.slow
def test_fetch_defaults(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests._fetch_helpers import cache_env

    base = tmp_path_factory.mktemp("defaults")
    shutil.copytree(isnet_cache(tmp_path_factory.getbasetemp(), "fp16", "int8"), base / "c")
    with cache_env(base / "c"):
        done = fetch_defaults(progress=True)
        keys = [f"isnet-general-use:{p}" for p in ("fp16", "fp32", "int8", "int8-static")]
        assert sorted(done) == keys
        fp32 = base / "c" / "models" / "isnet-general-use-fp32.onnx"
        side = read_sidecar(fp32)
        assert side is not None and side["derivation"] == "fp16_to_fp32"
        assert side["sha256"] == hashlib.sha256(fp32.read_bytes()).hexdigest()
        static = read_sidecar(base / "c" / "models" / "isnet-general-use-int8-static.onnx")
        assert static is not None and static["derivation"] == "fp32_to_int8_static"
        assert static["from_sha256"] == side["sha256"]
        for key, path in done.items():
            graph = onnx.load(str(path), load_external_data=False).graph
            assert [i.name for i in graph.input] == ["pixels", "resolution"], key
            assert [o.name for o in graph.output] == ["mask"], key
        assert fetch_defaults(progress=False) == done  # second call: all cached
