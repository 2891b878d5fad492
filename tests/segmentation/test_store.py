"""ensure_model / ensure_wrapped / fetch_defaults: user files, damaged caches, real IS-Net.

A sidecar caches a verification, it is never the truth about a file. The fake npm package
below is real files in a real ``node_modules`` folder (sha256-named chunks and a
``resources.json``, as IMG.LY ships them), holding a tiny real fp16 ONNX model; the derived
fp32 is made by the real ``fp16_to_fp32`` derivation. ``$PIXEL_LIBERATION_OFFLINE`` keeps
npm from being asked for anything. The last test does the same with the real IS-Net files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from segmentation.cli.main import main
from segmentation.config import CACHE_ENV, NODE_MODULES_ENV, OFFLINE_ENV, cache_dir
from segmentation.conversion.wasm_graph import wasm_graph_path
from segmentation.errors import ModelIntegrityError, ModelNotFoundError, UnverifiedModelError
from segmentation.models import registry as catalog
from segmentation.models.integrity import read_sidecar, sidecar_path, verify_model
from segmentation.models.isnet import FP16_SHA256, INT8_SHA256
from segmentation.models.npm_package import read_chunks
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import DerivedSource, ModelSpec, NpmSource, UrlSource
from segmentation.store import ensure_model, ensure_wrapped, fetch_defaults, model_path
from tests._fetch_helpers import (
    Route,
    isnet_cache,
    real_package,
    serve,
    sha256_bytes,
    tiny_onnx_bytes,
    tiny_spec,
)


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
        # the browser's (and the kernel's) saved graph of the default was made with it
        saved = wasm_graph_path(done["isnet-general-use:int8-static"])
        assert saved.is_file() and saved.with_suffix(".json").is_file()
        assert fetch_defaults(progress=False) == done  # second call: all cached


# --- sidecars: a cached verification, never the truth about a file -------------------


PACKAGE = "@pixel-test/tiny-data"
VERSION = "1.0.0"
RESOURCE = "/models/tiny"
#: Sidecars that damage or earlier versions may leave: unreadable, or recording nothing usable.
GARBAGE_SIDECARS = [b"{not json", b'{"sha256": 5}', b"[]", b'{"sha256": "abc"}', b"\xff\xfe{"]


def tiny_fp16_bytes() -> bytes:
    """The tiny model converted to fp16 with float32 inputs/outputs (IMG.LY's layout)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    fp32 = onnx.load_from_string(tiny_onnx_bytes(size=8, seed=7))
    return bytes(convert_float_to_float16(fp32, keep_io_types=True).SerializeToString())


def write_package(node_modules: Path, data: bytes, chunk: int = 128) -> Path:
    """Write ``data`` as an npm data package of sha256-named chunks; return its folder."""
    pkg = node_modules / PACKAGE
    (pkg / "dist").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": PACKAGE, "version": VERSION}))
    chunks = []
    for start in range(0, len(data), chunk):
        part = data[start : start + chunk]
        (pkg / "dist" / sha256_bytes(part)).write_bytes(part)
        chunks.append({"hash": sha256_bytes(part), "offsets": [start, start + len(part)]})
    table = {RESOURCE: {"chunks": chunks, "size": len(data)}}
    (pkg / "dist" / "resources.json").write_text(json.dumps(table))
    return pkg


@pytest.fixture
def npm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache and ``node_modules``, npm never asked (offline)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(NODE_MODULES_ENV, str(tmp_path / "node_modules"))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    return tmp_path


def npm_spec(pinned: bool) -> ModelSpec:
    sha = sha256_bytes(tiny_fp16_bytes()) if pinned else None
    src = NpmSource(PACKAGE, VERSION, RESOURCE)
    return tiny_spec("tinynpm", "fp16", sha256=sha, input_name="", output_name="").with_sources(src)


def derived_spec() -> ModelSpec:
    spec = tiny_spec("tinynpm", "fp32", input_name="", output_name="")
    return spec.with_sources(DerivedSource("fp16", "fp16_to_fp32"))


def flip_byte(path: Path, at: int = 100) -> bytes:
    """Damage one byte in place (same size); return the damaged content."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return bytes(data)


def test_pinned_model_damaged_without_a_good_sidecar_is_refused_and_not_recorded(
    npm_env: Path,
) -> None:
    spec = npm_spec(pinned=True)
    registry = Registry([spec])
    write_package(npm_env / "node_modules", tiny_fp16_bytes())
    dest = ensure_model(spec, registry=registry)
    good = dest.read_bytes()
    damaged = flip_byte(dest)
    side = sidecar_path(dest)
    # what an older version wrote: the damaged file's own hash, "recorded" as truth
    legacy = {"sha256": sha256_bytes(damaged), "note": "recorded on first verified load"}
    valid_but_wrong = {"sha256": sha256_bytes(damaged)}
    for sidecar in [
        None,
        *GARBAGE_SIDECARS,
        *(json.dumps(d).encode() for d in (legacy, valid_but_wrong)),
    ]:
        side.unlink(missing_ok=True)
        if sidecar is not None:
            side.write_bytes(sidecar)
        with pytest.raises(ModelIntegrityError) as info:
            ensure_model(spec, registry=registry)
        message = str(info.value)
        assert str(dest) in message and "corrupt" in message and "the catalog says" in message
        assert "ensure_model(spec, repair=True)" in message and "\n" not in message
        assert dest.read_bytes() == damaged, "the file is left as it was"
        assert side.read_bytes() == sidecar if sidecar is not None else not side.exists()
    assert ensure_model(spec, registry=registry, repair=True) == dest
    assert dest.read_bytes() == good
    assert read_sidecar(dest)["sha256"] == sha256_bytes(good)  # type: ignore[index]


def test_unpinned_npm_model_is_checked_against_its_chunks_or_not_accepted(npm_env: Path) -> None:
    spec = npm_spec(pinned=False)
    registry = Registry([spec])
    pkg = write_package(npm_env / "node_modules", tiny_fp16_bytes())
    dest = ensure_model(spec, registry=registry)
    good = dest.read_bytes()
    side = sidecar_path(dest)
    flip_byte(dest, at=300)
    for sidecar in [None, *GARBAGE_SIDECARS]:
        side.unlink(missing_ok=True)
        if sidecar is not None:
            side.write_bytes(sidecar)
        with pytest.raises(ModelIntegrityError, match=r"bytes 256-384 differ from chunk"):
            ensure_model(spec, registry=registry)
    dest.write_bytes(good)
    side.write_text("{not json")
    assert ensure_model(spec, registry=registry) == dest  # verified against the chunks again
    assert read_sidecar(dest) == {
        "file": dest.name,
        "note": "verified against the npm chunks",
        "sha256": sha256_bytes(good),
        "size": len(good),
        "spec": spec.key,
    }
    shutil.rmtree(pkg)  # now nothing can vouch for a file without its sidecar
    side.unlink()
    with pytest.raises(UnverifiedModelError) as info:
        ensure_model(spec, registry=registry)
    message = str(info.value)
    assert f"{dest} cannot be verified" in message and f"{PACKAGE}@{VERSION}" in message
    assert "is not installed" in message and OFFLINE_ENV in message
    assert not side.exists(), "an unverified hash is never recorded"
    assert dest.read_bytes() == good, "nor is the file thrown away"
    with pytest.raises(UnverifiedModelError):
        verify_model(spec, dest)


def test_derived_model_without_its_sidecar_is_derived_again(npm_env: Path) -> None:
    base, derived = npm_spec(pinned=True), derived_spec()
    registry = Registry([base, derived])
    write_package(npm_env / "node_modules", tiny_fp16_bytes())
    dest = ensure_model(derived, registry=registry)
    good = dest.read_bytes()
    record = read_sidecar(dest)
    assert record is not None and record["derivation"] == "fp16_to_fp32"
    assert record["from_sha256"] == base.sha256
    side = sidecar_path(dest)
    legacy = json.dumps({"sha256": "0" * 64, "note": "recorded on first verified load"})
    for sidecar in [None, *GARBAGE_SIDECARS, legacy.encode()]:
        flip_byte(dest, at=len(good) // 2)
        side.unlink(missing_ok=True)
        if sidecar is not None:
            side.write_bytes(sidecar)
        with pytest.raises(UnverifiedModelError, match="derived from another file"):
            verify_model(derived, dest)
        assert ensure_model(derived, registry=registry) == dest  # no repair flag needed
        assert dest.read_bytes() == good, "derived again from the verified base"
        assert read_sidecar(dest) == record
    flip_byte(dest)  # damaged while its sidecar is intact: corrupt, say so
    with pytest.raises(ModelIntegrityError, match=r"corrupt.*its sidecar says"):
        ensure_model(derived, registry=registry)
    assert ensure_model(derived, registry=registry, repair=True) == dest
    assert dest.read_bytes() == good


def test_derived_model_that_cannot_be_derived_again_is_kept_and_reported(npm_env: Path) -> None:
    base, derived = npm_spec(pinned=True), derived_spec()
    registry = Registry([base, derived])
    pkg = write_package(npm_env / "node_modules", tiny_fp16_bytes())
    dest = ensure_model(derived, registry=registry)
    good = dest.read_bytes()
    shutil.rmtree(pkg)
    ensure_model(base, registry=registry).unlink()  # base gone, and no package to remake it
    sidecar_path(dest).unlink()
    with pytest.raises(UnverifiedModelError) as info:
        ensure_model(derived, registry=registry)
    message = str(info.value)
    assert f"{dest} cannot be verified" in message and "no verified copy can be made" in message
    assert dest.read_bytes() == good and not sidecar_path(dest).exists()


def test_cli_fetch_names_and_repairs_a_damaged_model(
    npm_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = npm_spec(pinned=True)
    monkeypatch.setattr(catalog, "_DEFAULT", Registry([spec]))
    write_package(npm_env / "node_modules", tiny_fp16_bytes())
    dest = ensure_model(spec)
    flip_byte(dest)
    sidecar_path(dest).unlink()
    with pytest.raises(ModelIntegrityError) as info:
        ensure_model(spec)
    assert "run `python -m segmentation fetch tinynpm:fp16` to replace it" in str(info.value)
    assert main(["fetch", "tinynpm:fp16"]) == 0  # what the message says to run
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("tinynpm:fp16  ") and out[0].endswith(".onnx")
    assert dest.read_bytes() == tiny_fp16_bytes()
    assert main(["fetch", "nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unknown model 'nope'; known models: tinynpm"]
    assert main(["fetch", "tinynpm:int4"]) == 1
    assert "has no 'int4' variant" in capsys.readouterr().err


def test_catalog_pins_the_npm_files_it_assembles() -> None:
    specs = {s.precision: s for s in default_registry() if s.name == "isnet-general-use"}
    assert specs["fp16"].sha256 == FP16_SHA256 and specs["int8"].sha256 == INT8_SHA256
    assert specs["fp32"].sha256 is None and specs["int8-static"].sha256 is None  # derived


@pytest.mark.isnet
def test_real_isnet_pins_and_damage_without_sidecar(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The pinned hashes are the real package's; a damaged copy is named and fetched again."""
    real = isnet_cache(tmp_path_factory.getbasetemp(), "fp16", "int8") / "models"
    for precision, pinned in (("fp16", FP16_SHA256), ("int8", INT8_SHA256)):
        path = real / f"isnet-general-use-{precision}.onnx"
        resource = "/models/medium" if precision == "fp16" else "/models/small"
        assert read_chunks(real_package(), resource)[1] == path.stat().st_size
        assert hashlib.sha256(path.read_bytes()).hexdigest() == pinned
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    dest = cache / "models" / "isnet-general-use-fp16.onnx"
    shutil.copy(real / dest.name, dest)
    flip_byte(dest, at=1 << 20)  # no sidecar: an older version would have recorded this
    env = {**os.environ, CACHE_ENV: str(cache), OFFLINE_ENV: "1"}
    script = (
        "from segmentation.models.registry import default_registry as r\n"
        "from segmentation.store import ensure_model\n"
        "ensure_model(r().get('isnet-general-use', 'fp16'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "ModelIntegrityError" in proc.stderr and str(dest) in proc.stderr
    assert "run `python -m segmentation fetch isnet-general-use:fp16`" in proc.stderr
    assert not sidecar_path(dest).exists()
    fetch = [sys.executable, "-m", "segmentation", "fetch", "isnet-general-use:fp16"]
    proc = subprocess.run(fetch, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == FP16_SHA256
