"""Kernel memory stays bounded: widgets keep encoded images, batches stream, close() releases.

Measured with :mod:`tracemalloc`, which sees numpy's buffers (numpy reports them to it),
so "what a widget keeps" is the bytes allocated and not freed while it exists (masks
that onnxruntime allocated are not seen: python -m widget.bench memory measures RSS). The images
are real JPEG files made from scikit-image's astronaut photo; the model is the tiny one.
The browser side is tested in tests/e2e/test_engine_release.py.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
import zlib
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from segmentation.images import load_image
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from widget.batch.stream import ImageStream, MaskStore, mask_file_names
from widget.batch.widget import BatchRemover
from widget.engine.kernel_twin import run_twin
from widget.remover.widget import BackgroundRemover
from widget.transfer.assets import RAW_RGBA, Asset
from widget.transfer.chunks import ChunkSender
from widget.transfer.encoded import EncodedImage, inflate_rgba

MIB = 2**20


def photo_jpeg(path: Path, width: int, height: int, quality: int = 85) -> Path:
    """Write the astronaut photo, resized to ``width`` x ``height``, as a JPEG."""
    src = resources.files("skimage") / "data" / "astronaut.png"
    with Image.open(str(src)) as im:
        im.convert("RGB").resize((width, height), Image.Resampling.BILINEAR).save(
            path, quality=quality
        )
    return path


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1600x1200 JPEG (7.3 MiB of RGBA pixels, a few hundred KB encoded)."""
    return photo_jpeg(tmp_path_factory.mktemp("photos") / "astronaut.jpg", 1600, 1200)


@pytest.fixture
def traced() -> Iterator[Callable[[], int]]:
    """Bytes allocated (and still alive) since the fixture started, after a collection."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]

    def now() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - base

    yield now
    tracemalloc.stop()


# ---------------------------------------------------------------------- encoded images
def test_encoded_image_decodes_again_like_load_image(photo: Path) -> None:
    enc = EncodedImage(photo)
    assert enc.asset.mime == "image/jpeg" and enc.encoded_bytes == photo.stat().st_size
    expected = load_image(photo).pixels
    first = enc.pixels()
    np.testing.assert_array_equal(first, expected)
    assert enc.pixels() is first  # held by the caller: reused, not decoded again
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None  # nobody holds them: gone, the widget does not keep them
    np.testing.assert_array_equal(enc.pixels(), expected)
    assert enc.loaded().name == str(photo) and enc.loaded().format == "JPEG"


def test_encoded_image_of_pixels_keeps_them_deflated() -> None:
    rgba = red_square_rgba(300, 200, 40)
    rgba[..., 3] = 128  # alpha: the browser gets raw RGBA, deflated
    enc = EncodedImage(rgba)
    assert enc.asset.mime == RAW_RGBA and enc.encoded_bytes < rgba.nbytes / 10
    gc.collect()
    again = enc.pixels()
    np.testing.assert_array_equal(again, rgba)
    again[0, 0] = 0  # a writable copy, as load_image gives
    with pytest.raises(ValueError, match="not 3x3"):
        inflate_rgba(zlib.compress(bytes(10)), 3, 3)
    with pytest.raises(ValueError, match="larger"):
        inflate_rgba(zlib.compress(bytes(2 * 2**20)), 3, 3)


# ---------------------------------------------------------------------- BackgroundRemover
def test_retained_widgets_keep_only_encoded_photo_and_mask(
    photo: Path, tiny_model: TinyModel, traced: Callable[[], int]
) -> None:
    spec, reg = tiny_model.spec, tiny_model.registry
    warm = BackgroundRemover(photo, spec, registry=reg, backend="kernel")
    assert warm.model_mask.shape == (
        1200,
        1600,
    )  # the session cache and onnxruntime's arenas exist before measuring
    warm.close()
    del warm
    start = traced()
    kept = []
    for _ in range(4):  # a cell re-run 4 times; ipywidgets keeps every widget
        w = BackgroundRemover(photo, spec, registry=reg, backend="kernel")
        assert w.model_mask.shape == (1200, 1600)
        kept.append(w)
    per_widget = (traced() - start) / len(kept)
    encoded, mask, rgba = photo.stat().st_size, 1600 * 1200, 1600 * 1200 * 4
    print(f"kept per widget: {per_widget / MIB:.2f} MiB (RGBA would be {rgba / MIB:.1f} MiB)")
    assert per_widget <= encoded + mask + 1 * MIB, per_widget
    cut = kept[0].cutout("white")  # decodes on demand
    assert cut.size == (1600, 1200)
    del cut

    for w in kept:
        w.close()
    released = traced() - start
    assert released <= 1 * MIB, released  # close() let go of image and masks
    assert kept[0].closed
    with pytest.raises(RuntimeError, match="closed"):
        _ = kept[0].mask
    with pytest.raises(RuntimeError, match="closed"):
        _ = kept[0].image


def test_recycle_engine_asks_each_view(tiny_model: TinyModel) -> None:
    w = BackgroundRemover(red_square_rgba(), tiny_model.spec, registry=tiny_model.registry)
    sent: list[dict[str, Any]] = []
    w._link.sender = lambda content, buffers: sent.append(content)  # type: ignore[method-assign]
    assert w.recycle_engine() == 0
    hello: dict[str, Any] = {"type": "hello", "view": "v1", "have": [], "caps": {}, "blocker": None}
    w._link.receive(w, hello, [])
    assert w.recycle_engine() == 1
    assert sent[-1] == {"type": "recycle", "view": "v1"}


# ---------------------------------------------------------------------- streaming parts
def test_image_stream_window() -> None:
    s = ImageStream([4, 5, 6, 7], window=2)
    assert [s.take(), s.take(), s.take()] == [4, 5, None]
    assert s.finish(5) and not s.finish(5) and not s.finish(9)
    assert s.take() == 6 and s.take() is None and s.queued == 1
    assert s.finish(4) and s.take() == 7 and s.peak == 2
    with pytest.raises(ValueError, match="window"):
        ImageStream([], 0)


def test_chunk_sender_streams_added_assets_without_keeping_them() -> None:
    out: list[tuple[dict[str, object], list[bytes]]] = []
    sender = ChunkSender(lambda c, b: out.append((c, b)), "v", [], chunk_size=4, window=1)
    sender.start()
    assert sender.done and out == []
    a = Asset("a" * 64, 6, "image", "a", data=b"abcdef")
    ref = weakref.ref(a)
    sender.add(a)
    del a
    assert [c["seq"] for c, _ in out] == [0]
    assert sender.ack("a" * 64, 0) and sender.ack("a" * 64, 1)
    assert b"".join(b[0] for _, b in out) == b"abcdef" and sender.done
    gc.collect()
    assert ref() is None  # an added asset is not kept once sent
    sender.add(Asset("b" * 64, 2, "image", "b", data=b"xy"))
    assert out[-1][0]["sha256"] == "b" * 64 and sender.total_bytes == 8


def test_mask_store_rules(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="out_dir"):
        MaskStore(None, False, [b"x"])
    other = tmp_path / "0000-x.png"  # image 1's name is image 0's mask file
    with pytest.raises(ValueError, match="overwrite the input"):
        MaskStore(tmp_path, True, [tmp_path / "x.jpg", other])
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        MaskStore(tmp_path / "file", True, [b"x"])
    with pytest.raises(ValueError, match=r"out_dir .*file/sub"):
        MaskStore(tmp_path / "file" / "sub", True, [b"x"])
    assert mask_file_names(["a/x.jpg", b"raw", Path("b/x.jpg")]) == [
        "0000-x.png",
        "0001.png",
        "0002-x.png",
    ]
    store = MaskStore(tmp_path / "out", False, [b"x"])
    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = store.write(0, mask)
    assert path == tmp_path / "out" / "0000.png"
    np.testing.assert_array_equal(MaskStore.read(path), mask)
    assert not list((tmp_path / "out").glob("*.part"))


# ---------------------------------------------------------------------- BatchRemover
class ViewSide:
    """What a batch view would answer, driven from here (the browser test runs the real one)."""

    def __init__(self, b: BatchRemover, spec: Any, registry: Any) -> None:
        self.b, self.spec, self.registry = b, spec, registry
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        b.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))

    def msg(self, **content: Any) -> None:
        buffers = content.pop("_buffers", [])
        self.b._link.receive(self.b, {"view": "v", **content}, buffers)

    def announced(self) -> list[int]:
        return [c["index"] for c, _ in self.sent if c["type"] == "img_asset"]

    def receive_image(self, index: int) -> bytes:
        """Ack every chunk of image ``index`` (its key) and return its bytes."""
        head = next(c for c, _ in self.sent if c["type"] == "img_asset" and c["index"] == index)
        return self.receive(head["key"], head["info"]["size"])

    def receive(self, key: str, size: int) -> bytes:
        """Ack every chunk addressed by ``key`` as they come; return the asset's bytes."""
        data = bytearray(size)
        while True:
            chunks = [(c, b) for c, b in self.sent if c.get("sha256") == key]
            acked = {c["seq"] for c, _ in chunks if c.get("_acked")}
            todo = [(c, b) for c, b in chunks if c["seq"] not in acked]
            if not todo:
                return bytes(data)
            for c, b in todo:
                data[c["offset"] : c["offset"] + len(b[0])] = b[0]
                c["_acked"] = True
                self.msg(type="ack", sha256=key, seq=c["seq"])

    def answer(self, index: int, data: bytes) -> None:
        """Compute the mask as the browser would (same model) and send it back."""
        pixels = load_image(data).pixels
        mask, _ = run_twin(self.spec, self.registry, pixels)
        h, w = mask.shape
        self.msg(type="img_start", index=index, worker=0)
        self.msg(
            type="img_begin", index=index, worker=0, width=w, height=h, total=1, checksum=0,
            start=1.0, end=2.0, threads=1, timings={"inference": 1.0},
        )  # fmt: skip
        self.msg(type="img_chunk", index=index, seq=0, offset=0, _buffers=[mask.tobytes()])


def test_batch_streams_a_window_and_writes_masks(
    tmp_path: Path, tiny_model: TinyModel, traced: Callable[[], int]
) -> None:
    paths = [photo_jpeg(tmp_path / f"p{i}.jpg", 400 + 8 * i, 300) for i in range(6)]
    srcs: list[Any] = [*paths[:2], b"not an image", *paths[2:]]
    out = tmp_path / "masks"
    b = BatchRemover(
        srcs, tiny_model.spec, registry=tiny_model.registry, out_dir=out, backend="browser"
    )
    assert b.errors[2].startswith("image 2:") and b.done == 1
    view = ViewSide(b, tiny_model.spec, tiny_model.registry)
    view.msg(type="hello", have=[], caps={}, blocker=None)
    plan = view.sent[0][0]
    assert plan["type"] == "plan" and "images" not in plan and len(plan["errors"]) == 7
    for asset in (plan["wasm"], plan["model"]):
        view.receive(asset["sha256"], asset["size"])
    assert view.announced() == []  # nothing before the view's pool is ready
    view.msg(type="pool", workers=2, limit_reason="")
    assert view.announced() == [0, 1, 3]  # pool size + 1 images in flight, no more
    paths[4].unlink()  # image 5 moves away before its turn: a per-image error, not a stop
    for index in (1, 0, 3, 4, 6):
        data = view.receive_image(index)
        view.answer(index, data)
        assert b._stream is not None and len(b._stream.in_flight) <= 3
    assert view.announced() == [0, 1, 3, 4, 6]
    skipped = [c for c, _ in view.sent if c["type"] == "img_skip"]
    assert [c["index"] for c in skipped] == [5] and "no such file" in skipped[0]["error"]
    assert b._stream is not None and b._stream.peak == 3 and b.done == 7
    assert b.backends == ["browser", "browser", "", "browser", "browser", "", "browser"]
    assert b.errors[5].startswith("image 5:") and "no such file" in b.errors[5]
    # the masks went to out_dir and are not kept in memory (keep_masks defaults to False)
    assert all(r.browser is None and r.kernel is None for r in b._results.records)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["0000-p0.png", "0001-p1.png", "0003-p2.png", "0004-p3.png", "0006-p5.png"]
    expected, _ = run_twin(tiny_model.spec, tiny_model.registry, load_image(paths[0]).pixels)
    np.testing.assert_array_equal(b.mask(0), expected)
    assert b.mask_paths[0] == out / "0000-p0.png" and b.mask_paths[2] is None
    cmp = b.compare()
    assert cmp[0] is not None and cmp[0]["iou"] == 1.0 and cmp[2] is None
    b.close()
    with pytest.raises(RuntimeError, match="closed"):
        _ = b.masks


def kernel_batch_peak(tmp_path: Path, tiny: TinyModel, n: int) -> tuple[int, BatchRemover]:
    tmp_path.mkdir()
    photos = [photo_jpeg(tmp_path / f"k{i}.jpg", 1200, 900 + i) for i in range(n)]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        b = BatchRemover(photos, tiny.spec, registry=tiny.registry, out_dir=tmp_path / f"o{n}")
        hello = {"type": "hello", "view": "v", "have": [], "caps": {}, "blocker": "no wasm"}
        b._link.receive(b, hello, [])  # the kernel does them all, one at a time
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, b


def test_batch_memory_does_not_grow_with_the_number_of_images(
    tmp_path: Path, tiny_model: TinyModel
) -> None:
    kernel_batch_peak(tmp_path / "warm", tiny_model, 1)  # session cache, arenas
    small, b2 = kernel_batch_peak(tmp_path / "a", tiny_model, 2)
    large, b8 = kernel_batch_peak(tmp_path / "b", tiny_model, 8)
    rgba = 1200 * 900 * 4
    print(f"peak: 2 images {small / MIB:.1f} MiB, 8 images {large / MIB:.1f} MiB")
    assert b8.backends == ["kernel"] * 8 and len(list((tmp_path / "b" / "o8").iterdir())) == 8
    assert b2.done == 2
    # six more 1200x900 photos would add 25 MiB of pixels (+ 6 MiB of masks) if any were kept
    assert large - small < rgba / 2, (small, large)


def test_batch_keeps_a_mask_it_cannot_write(tmp_path: Path, tiny_model: TinyModel) -> None:
    out = tmp_path / "masks"
    b = BatchRemover(
        [red_square_rgba()], tiny_model.spec, registry=tiny_model.registry, out_dir=out,
        backend="browser",
    )  # fmt: skip
    out.rmdir()
    out.write_text("the folder became a file")  # nothing can be written there now
    mask = b.mask(0)
    assert mask is not None and mask.shape == red_square_rgba().shape[:2]
    assert "image 0: cannot write its mask to" in b.error and b.mask_paths == [None]
    np.testing.assert_array_equal(b.masks[0], mask)  # kept in memory instead of lost
