"""A batch's shared queue: the view at its front, the kernel at its back, no image twice.

The view's side is driven here with the messages a batch view sends; the real pool runs in
``tests/e2e/test_engine_batch.py``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import wire_messages as msgs
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from tests.wire_messages import deliver_all
from widget.batch.sharing import SharedQueue
from widget.batch.widget import KERNEL_SHARE, BatchRemover


@given(st.integers(0, 300), st.integers(1, 4))
@settings(max_examples=30, deadline=None)
def test_both_ends_together_take_every_image_once(n: int, takers: int) -> None:
    q = SharedQueue(range(n))
    taken: list[list[int]] = [[] for _ in range(2 * takers)]

    def drain(k: int) -> None:
        take = q.front if k % 2 else q.back
        while (i := take()) is not None:
            taken[k].append(i)

    threads = [threading.Thread(target=drain, args=(k,)) for k in range(2 * takers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(i for part in taken for i in part)
    assert every == list(range(n)) and len(q) == 0


def test_without_a_browser_the_kernel_does_them_all(tiny_model: TinyModel) -> None:
    imgs: list[Any] = [red_square_rgba(), b"not an image", red_square_rgba(80, 60, 10)]
    b = BatchRemover(imgs, tiny_model.spec, registry=tiny_model.registry)
    res = b.wait(timeout=30)
    assert res.source == "kernel" and b.backends == ["kernel", "", "kernel"]
    assert b.errors[1] and all(m is not None for i, m in enumerate(b.masks) if i != 1)
    assert b.status.startswith("done: 3 / 3")


def test_the_view_and_the_kernel_split_the_queue(
    tiny_model: TinyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = BatchRemover._twin_of

    def slow(self: BatchRemover, index: int) -> tuple[np.ndarray, float]:
        time.sleep(0.3)  # the kernel takes a while per image: the view gets the front ones
        return real(self, index)

    monkeypatch.setattr(BatchRemover, "_twin_of", slow)
    imgs = [red_square_rgba(40 + i, 50, 8) for i in range(6)]
    b = BatchRemover(imgs, tiny_model.spec, registry=tiny_model.registry, thumb_side=32)
    sent: list[dict[str, Any]] = []
    b.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign,assignment]
    b._link.receive(b, msgs.hello(), [])
    b._link.receive(b, msgs.pool(2), [])
    time.sleep(0.5)  # the kernel took the last image and works on it
    b._kernel_news()  # what the kernel's event loop would run
    asked = {c["index"] for c in sent if c["type"] == "img_asset"}
    skipped = {c["index"] for c in sent if c["type"] == "img_skip"}
    assert asked and skipped and not asked & skipped, (asked, skipped)
    assert 5 in skipped and 0 in asked  # the kernel at the back, the view at the front
    # the view answers for what it was sent (and gets more); the kernel finishes what it took
    answered: set[int] = set()
    while todo := {c["index"] for c in sent if c["type"] == "img_asset"} - answered:
        for index in sorted(todo):
            h, w = imgs[index].shape[:2]
            deliver_all(b, msgs.img_messages(index, np.full((h, w), 200, np.uint8)))
            answered.add(index)
        b._kernel_news()
    res = b.wait(timeout=30)
    kinds = b.backends
    assert set(kinds) == {"browser", "kernel"} and res.source == "mixed", kinds
    for i, kind in enumerate(kinds):
        assert (kind == "kernel") == (i in b._share_taken()), (i, kind)
        assert (b.fallback_reasons[i] == KERNEL_SHARE) == (kind == "kernel")
    every = {c["index"] for c in sent if c["type"] in ("img_asset", "img_skip")}
    assert every == set(range(6))  # the view heard of each image exactly as it should


def test_backend_browser_leaves_the_kernel_idle(tiny_model: TinyModel) -> None:
    b = BatchRemover([red_square_rgba()] * 3, tiny_model.spec, registry=tiny_model.registry,
                     backend="browser")  # fmt: skip
    assert b._share is None
    with pytest.raises(ValueError, match="backend must be one of"):
        BatchRemover([red_square_rgba()], tiny_model.spec, backend="gpu")
