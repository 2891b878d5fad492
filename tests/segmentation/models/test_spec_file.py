"""Model specs from someone else: every field checked, named, before anything is written."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from segmentation.config import cache_file, safe_name
from segmentation.errors import ModelNotFoundError, SegmentationError
from segmentation.jobs.model import ModelRef, shipped_path
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import ModelSpec
from segmentation.models.spec_file import read_spec_file
from segmentation.store import model_path, wrapped_path
from tests._images import noisy_photos
from tests.segmentation.cli_runs import assert_one_line_error, cli

#: (what the spec file sets, the field the error must name, words it must hold).
BAD_FIELDS = {
    "climbing name": ({"name": "../../etc/x"}, "name", "no path"),
    "absolute precision": ({"precision": "/tmp/y"}, "precision", "no path"),
    "colon in name": ({"name": "a:b"}, "name", "no ':'"),
    "NUL in name": ({"name": "a\x00b"}, "name", "got 'a\\x00b'"),
    "huge input": ({"input_size": [100000, 100000]}, "input_size", "from 1 to 4096"),
    "negative input": ({"input_size": [-64, 64]}, "input_size", "got (-64, 64)"),
    "fractional input": ({"input_size": [64.5, 64]}, "input_size", "two integers"),
    "boolean input": ({"input_size": [True, True]}, "input_size", "two integers"),
    "one side": ({"input_size": [64]}, "input_size", "two integers"),
    "zero std": ({"std": [0, 0, 0]}, "std", "positive finite"),
    "negative std": ({"std": [1, -1, 1]}, "std", "positive finite"),
    "two means": ({"mean": [0.5, 0.5]}, "mean", "three finite"),
    "string mean": ({"mean": ["a", 0, 0]}, "mean", "three finite"),
    "scale word": ({"scale": "big"}, "scale", "finite non-zero"),
    "zero scale": ({"scale": 0}, "scale", "finite non-zero"),
    "channel order": ({"channel_order": "XYZ"}, "channel_order", "'RGB' or 'BGR'"),
    "activation": ({"activation": "relu"}, "activation", "'none' or 'sigmoid'"),
    "normalization": ({"normalization": "zscore"}, "normalization", "'none' or 'minmax'"),
    "antialias": ({"resize_antialias": "yes"}, "resize_antialias", "true or false"),
    "sha256": ({"sha256": "abc"}, "sha256", "64 hex"),
    "size not a list": ({"input_size": 64}, "input_size", "must be a list"),
    "device": ({"path": "/dev/zero"}, "path", "/dev/zero is not a regular file"),
    "folder": ({"path": "."}, "path", "is not a regular file"),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_each_bad_field_is_named_with_its_file(
    case: str,
    spec_file: Path,
    tmp_path: Path,
) -> None:
    change, field, words = BAD_FIELDS[case]
    data = {**json.loads(spec_file.read_text()), **change}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(SegmentationError) as err:
        read_spec_file(path)
    message = str(err.value)
    assert message.startswith(f"model spec {path}: '{field}'"), message
    assert words in message and "\n" not in message and "\x1b" not in message
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("values", ['"mean": [NaN, 0, 0]', '"std": [1e999, 1, 1]'])
def test_non_finite_numbers_json_allows_are_refused(tmp_path: Path, values: str) -> None:
    (tmp_path / "m.onnx").write_bytes(b"x")
    (tmp_path / "s.json").write_text(f'{{"path": "m.onnx", "name": "m", {values}}}')
    with pytest.raises(SegmentationError, match=r"'(mean|std)' must be three .*finite"):
        read_spec_file(tmp_path / "s.json")


def test_cli_refuses_a_huge_input_size_at_once_and_writes_nothing(
    tmp_path: Path,
    env: dict[str, str],
    spec_file: Path,
) -> None:
    photo = noisy_photos(tmp_path / "in", 1, size=(16, 16))[0]
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps({**json.loads(spec_file.read_text()), "input_size": [1e5, 1e5]}))
    start = time.monotonic()
    line = assert_one_line_error(cli(photo, "-o", tmp_path / "out", "--model-spec", hostile,
                                     env=env))  # fmt: skip
    assert time.monotonic() - start < 60
    assert f"model spec {hostile}: 'input_size'" in line
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_cache_files_are_named_safely_and_stay_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))
    for spec in default_registry():  # the catalog's names are unchanged: caches stay valid
        assert model_path(spec).name == f"{spec.name}-{spec.precision}.onnx"
    spec = ModelSpec("my model+v2", "fp16 512", sources=())
    cache = (tmp_path / "cache").resolve()
    ref = ModelRef(spec, "0" * 64, "1" * 64)
    for path in (model_path(spec), wrapped_path(spec, "0" * 64)[0], shipped_path(ref)):
        assert path.resolve().parent.parent == cache and " " not in path.name, path
    assert safe_name("../../etc/x") == "_.._etc_x" and safe_name("...") == "_"
    for name in ("../x", "a/b", "..", "", "a\x00b"):
        with pytest.raises(ValueError, match="not a file name inside the cache folder"):
            cache_file("wrapped", name)
    with pytest.raises(ValueError, match="'name' must be"):
        ModelSpec("../../etc/x", "fp32", sources=())


def test_register_file_says_a_device_is_not_a_model_file() -> None:
    with pytest.raises(ModelNotFoundError, match="/dev/zero is not a regular file"):
        Registry().register_file("/dev/zero", ModelSpec("m", "fp32", sources=()))
