"""npm data package: real assembly of the IMG.LY models, and damaged or missing packages."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from segmentation.config import CACHE_ENV, NODE_MODULES_ENV, OFFLINE_ENV
from segmentation.errors import ModelIntegrityError, ModelNotFoundError
from segmentation.models.integrity import read_sidecar, sha256_file
from segmentation.models.npm_package import assemble, find_package, read_chunks
from segmentation.models.registry import Registry
from segmentation.models.spec import IMGLY_PACKAGE, IMGLY_VERSION, ModelSpec, NpmSource
from segmentation.store import ensure_model
from tests._fetch_helpers import files_in, isnet_cache, real_package

MEDIUM = "/models/medium"


@pytest.mark.isnet
@pytest.mark.parametrize(("precision", "resource"), [("fp16", MEDIUM), ("int8", "/models/small")])
def test_assemble_real_models(
    precision: str, resource: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = isnet_cache(tmp_path_factory.getbasetemp(), precision)
    path = cache / "models" / f"isnet-general-use-{precision}.onnx"
    chunks, size = read_chunks(real_package(), resource)
    assert path.stat().st_size == size
    side = read_sidecar(path)
    assert side is not None
    assert side["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert side["resource"] == resource
    assert side["npm"] == f"{IMGLY_PACKAGE}@{IMGLY_VERSION}"
    # the assembled bytes are exactly the chunks, in offset order
    with path.open("rb") as f:
        for c in sorted(chunks, key=lambda c: c.start):
            f.seek(c.start)
            assert hashlib.sha256(f.read(c.end - c.start)).hexdigest() == c.sha256


def _package_copy(tmp_path: Path) -> tuple[Path, list[str]]:
    """A package whose chunks are symlinks to the real ones (no 200 MB copy)."""
    real = real_package()
    pkg = tmp_path / "node_modules" / IMGLY_PACKAGE
    (pkg / "dist").mkdir(parents=True)
    shutil.copy(real / "package.json", pkg / "package.json")
    shutil.copy(real / "dist" / "resources.json", pkg / "dist" / "resources.json")
    for chunk in (real / "dist").iterdir():
        if chunk.name != "resources.json":
            (pkg / "dist" / chunk.name).symlink_to(chunk)
    chunks, _ = read_chunks(real, MEDIUM)
    return pkg, [c.sha256 for c in sorted(chunks, key=lambda c: c.start)]


def _replace_chunk(pkg: Path, name: str, data: bytes | None) -> None:
    target = pkg / "dist" / name
    target.unlink()  # a symlink into the real package: never write through it
    if data is not None:
        target.write_bytes(data)


def test_corrupt_chunk_is_named(tmp_path: Path) -> None:
    pkg, names = _package_copy(tmp_path)
    bad = names[3]
    data = bytearray((pkg / "dist" / bad).read_bytes())
    data[1000] ^= 0xFF
    _replace_chunk(pkg, bad, bytes(data))
    dest = tmp_path / "out" / "m.onnx"
    with pytest.raises(ModelIntegrityError, match=rf"chunk .*{bad}.* fails its sha256"):
        assemble(pkg, MEDIUM, dest)
    assert files_in(tmp_path / "out") == [], "no partial file may remain"


def test_truncated_chunk_is_named(tmp_path: Path) -> None:
    pkg, names = _package_copy(tmp_path)
    bad = names[-1]
    data = (pkg / "dist" / bad).read_bytes()
    _replace_chunk(pkg, bad, data[: len(data) // 2])
    with pytest.raises(ModelIntegrityError, match=rf"chunk .*{bad}.* has {len(data) // 2} bytes"):
        assemble(pkg, MEDIUM, tmp_path / "out" / "m.onnx")
    assert files_in(tmp_path / "out") == []


def test_missing_chunk_is_named(tmp_path: Path) -> None:
    pkg, names = _package_copy(tmp_path)
    _replace_chunk(pkg, names[0], None)
    with pytest.raises(ModelIntegrityError, match=rf"chunk .*{names[0]} is missing"):
        assemble(pkg, MEDIUM, tmp_path / "out" / "m.onnx")


def test_garbage_resources_json(tmp_path: Path) -> None:
    pkg, _ = _package_copy(tmp_path)
    (pkg / "dist" / "resources.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match=r"resources\.json.*reinstall"):
        assemble(pkg, MEDIUM, tmp_path / "m.onnx")


def test_gap_in_chunk_table(tmp_path: Path) -> None:
    pkg, _ = _package_copy(tmp_path)
    index = pkg / "dist" / "resources.json"
    table = json.loads(index.read_text())
    del table[MEDIUM]["chunks"][2]
    index.write_text(json.dumps(table))
    with pytest.raises(ModelIntegrityError, match="gap at byte"):
        assemble(pkg, MEDIUM, tmp_path / "m.onnx")


def test_version_must_match(tmp_path: Path) -> None:
    assert find_package(IMGLY_PACKAGE, IMGLY_VERSION) == real_package()
    assert find_package(IMGLY_PACKAGE, "0.0.1-not-installed") is None


def test_missing_package_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(NODE_MODULES_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv(OFFLINE_ENV, "1")  # never reach the npm registry from a test
    package = "@pixel-liberation-tests/absent-data"
    spec = ModelSpec("absent", "fp16", sources=(NpmSource(package, "9.9.9", MEDIUM),))
    with pytest.raises(ModelNotFoundError) as info:
        ensure_model(spec, registry=Registry([spec]))
    message = str(info.value)
    assert f"npm install --prefix {tmp_path / 'cache' / 'npm'} {package}@9.9.9" in message
    assert "absent:fp16" in message
    assert not (tmp_path / "cache" / "models").exists()


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    p.write_bytes(b"x" * 10_000)
    assert sha256_file(p) == hashlib.sha256(b"x" * 10_000).hexdigest()
    p.write_bytes(b"y" * 10_001)  # new size: the remembered hash must not be reused
    assert sha256_file(p) == hashlib.sha256(b"y" * 10_001).hexdigest()
