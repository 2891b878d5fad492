"""The catalog: built-in entries, rembg's online models, lookups and name resolution."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from segmentation.errors import UnknownModelError
from segmentation.models.registry import Registry, builtin_registry
from segmentation.models.rembg import REMBG_RELEASE, online_specs
from segmentation.models.spec import (
    DEFAULT_PRECISION,
    DerivedSource,
    ModelSpec,
    NpmSource,
    UrlSource,
)
from tests._fetch_helpers import tiny_spec

HEX64 = re.compile(r"[0-9a-f]{64}")
HEX32 = re.compile(r"[0-9a-f]{32}")


def test_builtin_registry_contents() -> None:
    reg = builtin_registry()
    assert reg.names() == ["isnet-anime", "isnet-general-use", "silueta", "u2net", "u2netp"]
    isnet = {s.precision: s for s in reg if s.name == "isnet-general-use"}
    assert sorted(isnet) == ["fp16", "fp32", "int8", "int8-static"]
    assert isinstance(isnet["fp16"].sources[0], NpmSource)
    assert isinstance(isnet["int8"].sources[0], NpmSource)
    assert isnet["fp32"].sources == (DerivedSource("fp16", "fp16_to_fp32"),)
    assert isnet["int8-static"].sources == (DerivedSource("fp32", "fp32_to_int8_static"),)
    assert not any(s.online_only for s in isnet.values())


def test_online_specs_are_pinned() -> None:
    specs = online_specs()
    assert {s.name for s in specs} >= {"u2netp", "u2net", "silueta", "isnet-anime"}
    for spec in specs:
        assert spec.online_only
        (src,) = spec.sources
        assert isinstance(src, UrlSource)
        assert src.url == f"{REMBG_RELEASE}/{spec.name}.onnx"
        assert src.sha256 is not None and HEX64.fullmatch(src.sha256), spec.key
        assert src.md5 is not None and HEX32.fullmatch(src.md5), spec.key
        assert spec.sha256 == src.sha256
        assert src.size is not None and src.size > 1_000_000
        assert spec.license and spec.description
    by_name = {s.name: s for s in specs}
    for name in ("u2netp", "u2net", "silueta"):
        assert by_name[name].input_size == (320, 320)
        assert by_name[name].mean == (0.485, 0.456, 0.406)
        assert by_name[name].std == (0.229, 0.224, 0.225)
    anime = by_name["isnet-anime"]
    assert anime.input_size == (1024, 1024)
    assert (anime.mean, anime.std) == ((0.485, 0.456, 0.406), (1.0, 1.0, 1.0))


def test_unknown_model_lists_known_names() -> None:
    reg = builtin_registry()
    with pytest.raises(UnknownModelError) as info:
        reg.get("modnet")
    message = str(info.value)
    assert "unknown model 'modnet'" in message
    for name in reg.names():
        assert name in message
    with pytest.raises(UnknownModelError, match="has no 'fp16' variant; available: fp32"):
        reg.get("u2netp", "fp16")
    with pytest.raises(KeyError):  # still a KeyError for callers that catch that
        reg.get("nothing")


def test_no_precision_means_the_default_or_the_only_one() -> None:
    reg = builtin_registry()
    assert reg.get("isnet-general-use").precision == DEFAULT_PRECISION
    assert reg.get("u2netp").precision == "fp32"
    two = Registry([replace(reg.get("u2netp"), precision=p) for p in ("fp32", "fp16")])
    with pytest.raises(UnknownModelError, match=r"none is the default .*fp16, fp32"):
        two.get("u2netp")


def test_register_refuses_shadowing_and_bad_fields() -> None:
    reg = Registry([tiny_spec()])
    with pytest.raises(ValueError, match="already registered"):
        reg.register(tiny_spec())
    with pytest.raises(ValueError, match="activation"):
        reg.register(tiny_spec(name="t2", activation="softmax"))
    assert "tiny:fp32" in reg and len(reg) == 1


def test_resolve_io() -> None:
    spec = tiny_spec(input_name="", output_name="")
    resolved = spec.resolve_io(["img"], ["mask", "side1"])
    assert (resolved.input_name, resolved.output_name) == ("img", "mask")
    named = tiny_spec(input_name="input.1", output_name="1959")
    assert named.resolve_io(["input.1"], ["1959", "1960"]) == named
    with pytest.raises(ValueError, match=r"no output '1959' \(it has \['out'\]\)"):
        named.resolve_io(["input.1"], ["out"])


def test_url_source_fields() -> None:
    src = UrlSource("https://example.org/m.onnx", md5="a" * 32)
    assert src.sha256 is None
    spec = ModelSpec("m", "fp32", sources=(src,))
    assert spec.filename == "m-fp32.onnx"
