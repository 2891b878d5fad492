"""The pure-Python parts of ``widget.BatchRemover``: message validation, bookkeeping, fallback.

The browser side is tested for real in tests/e2e/test_engine_batch.py; here the widget
is driven with the messages a view would send, and the kernel twin runs the tiny model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from widget.batch.results import BatchResults, overlapping_workers
from widget.batch.widget import BatchRemover
from widget.engine.kernel_twin import run_twin
from widget.protocol.batch import (
    ImageBegin,
    ImageChunk,
    ImageFailed,
    PoolReady,
    parse_batch_message,
)
from widget.protocol.common import Hello, WireError


def begin(index: int = 0, **kw: Any) -> dict[str, Any]:
    msg = {
        "type": "img_begin", "view": "v", "index": index, "worker": 1, "width": 4, "height": 3,
        "total": 2, "checksum": 7, "start": 10.0, "end": 25.5, "threads": 1,
        "timings": {"decode": 1.0, "session_create": 0.0, "inference": 9.0},
    }  # fmt: skip
    msg.update(kw)
    return msg


def test_parse_batch_messages() -> None:
    head = parse_batch_message(begin(), None)
    assert isinstance(head, ImageBegin)
    assert (head.index, head.worker, head.start, head.end) == (0, 1, 10.0, 25.5)
    chunk = parse_batch_message(
        {"type": "img_chunk", "view": "v", "index": 0, "seq": 1, "offset": 6}, [b"abc"]
    )
    assert isinstance(chunk, ImageChunk) and chunk.data == b"abc"
    pool = parse_batch_message({"type": "pool", "view": "v", "workers": 2}, None)
    assert pool == PoolReady("v", 2, "")
    hello = {"type": "hello", "view": "v", "have": [], "caps": {}, "blocker": None}
    assert isinstance(parse_batch_message(hello, None), Hello)
    failed = {"type": "img_failed", "view": "v", "index": 3, "stage": "decode", "reason": "x"}
    assert parse_batch_message(failed, None) == ImageFailed("v", 3, "decode", "x")


@pytest.mark.parametrize(
    ("content", "buffers", "needle"),
    [
        (begin(index=-1), None, "'index'"),
        (begin(end=5.0), None, "ends"),
        (begin(width=0), None, "empty"),
        (begin(timings={"inference": "fast"}), None, "'inference'"),
        ({"type": "img_chunk", "view": "v", "index": 0, "seq": 0, "offset": 0}, None, "buffer"),
        ({"type": "img_start", "view": "v", "index": 0}, None, "'worker'"),
        ({"type": "teleport", "view": "v"}, None, "teleport"),
        (["not", "an", "object"], None, "JSON object"),
    ],
)
def test_parse_rejects_malformed(content: Any, buffers: Any, needle: str) -> None:
    with pytest.raises(WireError, match=needle):
        parse_batch_message(content, buffers)


def test_results_assemble_chunks_and_summarise() -> None:
    res = BatchResults([(4, 3), None, (2, 2)], ["", "image 1: bad", ""])
    assert res.done == 1 and res.pending() == [0, 2]
    res.begin(parse_batch_message(begin(), None))  # type: ignore[arg-type]
    mask = np.arange(12, dtype=np.uint8)
    assert not res.chunk(ImageChunk("v", 0, 0, 0, mask[:6].tobytes()))
    assert res.chunk(ImageChunk("v", 0, 1, 6, mask[6:].tobytes()))
    np.testing.assert_array_equal(res.records[0].mask, mask.reshape(3, 4))
    res.set_kernel(2, np.zeros((2, 2), np.uint8), 3.0, "decode: broken")
    assert res.done == 3 and res.pending() == []
    t = res.timings()
    assert t["images"][0]["worker"] == 1 and t["images"][2]["backend"] == "kernel"
    assert t["workers_used"] == 1 and t["wall"] == pytest.approx(15.5)
    with pytest.raises(WireError, match="is 4x3, the image is 2x2"):
        res.begin(parse_batch_message(begin(index=2), None))  # type: ignore[arg-type]
    with pytest.raises(WireError, match="could not be read"):
        res.begin(parse_batch_message(begin(index=1), None))  # type: ignore[arg-type]
    with pytest.raises(WireError, match="outside the batch"):
        res.record(3)


def test_overlapping_workers() -> None:
    def t(worker: int, start: float, end: float) -> dict[str, Any]:
        return {"backend": "browser", "worker": worker, "start": start, "end": end}

    assert overlapping_workers([t(0, 0, 10), t(0, 10, 20)]) == 1
    assert overlapping_workers([t(0, 0, 10), t(1, 10, 20)]) == 1  # touching is not overlapping
    assert overlapping_workers([t(0, 0, 10), t(1, 5, 20), t(0, 10, 30), {}]) == 2


def test_bad_arguments(tiny_model: TinyModel) -> None:
    with pytest.raises(TypeError, match="list of images"):
        BatchRemover("photo.jpg", tiny_model.spec)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        BatchRemover([], tiny_model.spec)
    with pytest.raises(ValueError, match="workers"):
        BatchRemover([red_square_rgba()], tiny_model.spec, workers=0)


def test_kernel_fallbacks(tiny_model: TinyModel) -> None:
    imgs = [red_square_rgba(), b"garbage", red_square_rgba(80, 60, 10)]
    b = BatchRemover(imgs, tiny_model.spec, registry=tiny_model.registry, backend="browser")
    assert b.total == 3 and b.done == 1
    assert b.errors[1].startswith("image 1: <bytes>"), b.errors
    b._link.receive(b, {"type": "hello", "view": "v", "have": [], "caps": {}, "blocker": None}, [])
    b._link.receive(b, {"type": "pool", "view": "v", "workers": 2}, [])
    b._link.receive(b, {"type": "img_start", "view": "v", "index": 2, "worker": 1}, [])
    assert b.workers == 2 and b.worker_activity == ["idle", "image 2"]
    # the browser gives up on image 2: the kernel twin computes it, the others wait
    b._link.receive(
        b, {"type": "img_failed", "view": "v", "index": 2, "stage": "run", "reason": "boom"}, []
    )
    assert b.error == "" and b.worker_activity == ["idle", "idle"]
    assert b.backends == ["", "", "kernel"] and b.fallback_reasons[2] == "run: boom"
    assert b.done == 2 and b.status.startswith("running: 2 / 3")
    # a malformed message sets `error`, never raises
    b._link.receive(b, {"type": "img_begin", "view": "v"}, [])
    assert "malformed" in b.error
    masks = b.masks  # a view runs the batch: what it still owes is None, no kernel work
    assert masks[0] is None and b.backends == ["", "", "kernel"]
    result = b.wait(timeout=0.5)  # the view never answers: the kernel takes over
    assert result.source == "kernel" and result.reason, result
    masks = b.masks
    assert masks[1] is None and b.backends == ["kernel", "", "kernel"]
    expected, _ = run_twin(tiny_model.spec, tiny_model.registry, imgs[0])
    np.testing.assert_array_equal(masks[0], expected)
    assert masks[2] is not None and masks[2].shape == (80, 60)


def test_blocked_browser_runs_everything_in_the_kernel(tiny_model: TinyModel) -> None:
    b = BatchRemover(
        [red_square_rgba()] * 2, tiny_model.spec, registry=tiny_model.registry, backend="browser"
    )
    hello = {"type": "hello", "view": "v", "have": [], "caps": {}, "blocker": "no WebAssembly"}
    b._link.receive(b, hello, [])
    assert b.backends == ["kernel", "kernel"]
    assert b.fallback_reasons == ["no WebAssembly"] * 2
    assert b.status.startswith("done: 2 / 2") and b.bytes_sent["model"] == 0


@pytest.mark.parametrize("bad", [0, 17, 1.5, "2"])
def test_bad_threads_per_worker(tiny_model: TinyModel, bad: object) -> None:
    with pytest.raises(ValueError, match="threads_per_worker must be an integer from 1 to 16"):
        BatchRemover([red_square_rgba()], tiny_model.spec, threads_per_worker=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("caps", "asked", "expected"),
    [
        ({}, 2, "2 workers x 1 thread: the page is not cross-origin isolated"),
        ({"crossOriginIsolated": True, "threads": True, "hardwareConcurrency": 8}, None,
         "2 workers x 1 thread: default"),
        ({"crossOriginIsolated": True, "threads": True, "hardwareConcurrency": 8}, 3,
         "2 workers x 3 threads: threads_per_worker asked"),
        ({"crossOriginIsolated": True, "threads": True, "hardwareConcurrency": 2}, 3,
         "2 workers x 2 threads: threads_per_worker asked"),
    ],
)  # fmt: skip
def test_layout_says_workers_and_threads(
    tiny_model: TinyModel, caps: dict[str, object], asked: int | None, expected: str
) -> None:
    b = BatchRemover(
        [red_square_rgba()] * 2, tiny_model.spec, registry=tiny_model.registry,
        threads_per_worker=asked, backend="browser",
    )  # fmt: skip
    sent: list[dict[str, object]] = []
    b.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign,assignment]
    b._link.receive(
        b, {"type": "hello", "view": "v", "have": [], "caps": caps, "blocker": None}, []
    )
    plan = next(m for m in sent if m.get("type") == "plan")
    assert plan["threads_per_worker"] == (asked or 1)
    b._link.receive(b, {"type": "pool", "view": "v", "workers": 2}, [])
    assert b.layout.startswith(expected), b.layout


def test_resolution_reaches_the_plan_and_the_twin(tiny_model: TinyModel) -> None:
    img = red_square_rgba()
    with pytest.raises(ValueError, match="multiples of 32"):
        BatchRemover([img], tiny_model.spec, registry=tiny_model.registry, resolution=50)
    b = BatchRemover(
        [img], tiny_model.spec, registry=tiny_model.registry, resolution=128, backend="browser"
    )
    sent: list[dict[str, object]] = []
    b.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign,assignment]
    b._link.receive(b, {"type": "hello", "view": "v", "have": [], "caps": {}, "blocker": None}, [])
    assert next(m for m in sent if m.get("type") == "plan")["resolution"] == [128, 128]
    expected, _ = run_twin(tiny_model.spec, tiny_model.registry, img, (128, 128))
    default, _ = run_twin(tiny_model.spec, tiny_model.registry, img)
    assert not np.array_equal(expected, default)
    assert b.masks == [None]  # the view that said hello runs the batch: no kernel work yet
    b.wait(timeout=0.2)  # it never answers: the twin computes the mask, at the same resolution
    masks = b.masks
    assert masks[0] is not None
    np.testing.assert_array_equal(masks[0], expected)
