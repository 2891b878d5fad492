"""Kernel side of the engine's protocol, without a browser: validation, chunking, windowing."""

from __future__ import annotations

import re
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.images import load_image
from tests import wire_messages as msgs
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from tests.wire_messages import deliver, deliver_all
from widget.batch.widget import BatchRemover
from widget.protocol import remover as wire
from widget.protocol.common import MAX_MASK_CHUNK
from widget.remover.widget import BackgroundRemover
from widget.transfer.assets import RAW_RGBA, file_asset, image_asset
from widget.transfer.chunks import ChunkSender, send_mask


def test_parse_valid_messages() -> None:
    hello = wire.parse_view_message(
        {"type": "hello", "view": "v", "have": ["a"], "caps": {"wasm": True}, "blocker": None},
        [],
    )
    assert hello == wire.Hello("v", frozenset({"a"}), {"wasm": True}, None)
    chunk = wire.parse_view_message(
        {"type": "mask_chunk", "view": "v", "seq": 1, "offset": 8}, [memoryview(b"\x01\x02")]
    )
    assert chunk == wire.MaskChunk("v", 1, 8, b"\x01\x02")


@pytest.mark.parametrize(
    ("content", "buffers", "needle"),
    [
        ([], [], "JSON object"),
        ({"view": "v"}, [], "lacks 'type'"),
        ({"type": "ack", "view": "v", "sha256": "x", "seq": -1}, [], "'seq' must be >= 0"),
        ({"type": "ack", "view": "v", "sha256": "x", "seq": True}, [], "got a bool"),
        ({"type": "mask_chunk", "view": "v", "seq": 0, "offset": 0}, [], "exactly one"),
        (
            {"type": "mask_chunk", "view": "v", "seq": 0, "offset": 0},
            [b"\0" * (MAX_MASK_CHUNK + 1)],
            "exceeds",
        ),
        ({"type": "hello", "view": "v", "have": [1], "caps": {}}, [], "sha256 strings"),
        ({"type": "launch", "view": "v"}, [], "unknown message type 'launch'"),
    ],
)
def test_parse_rejects_malformed(content: object, buffers: list[bytes], needle: str) -> None:
    with pytest.raises(wire.WireError, match=needle):
        wire.parse_view_message(content, buffers)


def test_sender_keeps_a_window_and_counts_bytes(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    data = np.random.default_rng(0).integers(0, 256, 10_000, np.uint8).tobytes()
    path.write_bytes(data)
    asset = file_asset(path, "model")
    sent: list[tuple[dict[str, object], list[bytes]]] = []
    progress: list[tuple[int, int]] = []
    sender = ChunkSender(
        lambda c, b: sent.append((c, b)),
        "v",
        [asset],
        lambda a, t: progress.append((a, t)),
        chunk_size=3000,
        window=2,
    )
    sender.start()
    assert len(sent) == 2  # the window, not everything
    assert not sender.ack(asset.sha256, 7)  # unknown chunk
    acked: set[object] = set()
    while not sender.done:
        in_flight = [c["seq"] for c, _ in sent if c["seq"] not in acked]
        assert 1 <= len(in_flight) <= 2
        assert sender.ack(asset.sha256, int(str(in_flight[0])))
        acked.add(in_flight[0])
    assert [c["seq"] for c, _ in sent] == [0, 1, 2, 3]
    assert b"".join(b[0] for _, b in sent) == data
    assert sender.sent["model"] == len(data) and progress[-1] == (len(data), len(data))


def test_mask_is_sent_in_small_chunks() -> None:
    out: list[tuple[dict[str, object], list[bytes]]] = []
    mask = bytes(range(256)) * (5 * 2**20 // 256)
    n = send_mask(lambda c, b: out.append((c, b)), "v", mask, 2**20, 5, "kernel")
    assert n == 3 and all(len(b[0]) <= 2 * 2**20 for _, b in out)
    assert b"".join(b[0] for _, b in out) == mask


def test_image_payload_choice(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), np.uint8)
    jpg = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(jpg)
    asset = image_asset(jpg, load_image(jpg))
    assert asset.mime == "image/jpeg" and asset.data == jpg.read_bytes()
    rgba = np.dstack([rgb, np.full((20, 30), 77, np.uint8)])
    png = tmp_path / "b.png"
    Image.fromarray(rgba).save(png)
    loaded = load_image(png)
    asset = image_asset(png, loaded)
    assert asset.mime == RAW_RGBA and (asset.width, asset.height) == (30, 20)
    assert asset.data is not None and zlib.decompress(asset.data) == loaded.pixels.tobytes()


# ------------------------------------------------------- hostile or broken views' messages
# The kernel checks every byte count, size and range a view sends before it allocates or
# writes: a wrong one is refused with an error naming it, and the masks the widget holds
# stay as they were.

W, H = 320, 240  # a 76,800-byte mask


@pytest.fixture
def remover(tiny_model: TinyModel) -> BackgroundRemover:
    """A BackgroundRemover on a 320x240 image whose view ``VIEW`` said hello (it may run)."""
    w = BackgroundRemover(
        red_square_rgba(H, W), tiny_model.spec, backend="browser", registry=tiny_model.registry
    )
    deliver(w, msgs.hello())
    assert w.error == "" and w.status == "sending assets to the browser"
    return w


@pytest.fixture
def batch(tiny_model: TinyModel) -> BatchRemover:
    """A BatchRemover of two 320x240 images whose view ``VIEW`` said hello (it runs them)."""
    imgs = [red_square_rgba(H, W)] * 2
    b = BatchRemover(imgs, tiny_model.spec, registry=tiny_model.registry, backend="browser")
    deliver(b, msgs.hello())
    assert b.error == "" and b.status == "sending assets to the browser"
    return b


def some_mask(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W), np.uint8)


def test_a_short_chunk_does_not_complete_a_mask(remover: BackgroundRemover) -> None:
    deliver(remover, msgs.mask_begin(W, H, total=1))
    deliver(remover, msgs.mask_chunk(0, 0), [b"\xff" * 10])
    assert remover.backend_used == "" and remover.pixels_match is None
    assert "10 of 76800 bytes" in remover.error, remover.error


def test_a_chunk_numbered_past_the_total_is_rejected(remover: BackgroundRemover) -> None:
    deliver(remover, msgs.mask_begin(W, H, total=1))
    deliver(remover, msgs.mask_chunk(99, 0), [bytes(W * H)])
    assert remover.backend_used == "" and "chunk 99" in remover.error, remover.error


@pytest.mark.parametrize(
    ("chunks", "needle"),
    [
        ([(0, 0, 40_000), (1, 30_000, 46_800)], "overlaps"),  # bytes 30,000..39,999 twice
        ([(0, 0, 38_400), (1, 38_401, 38_399)], "76799 of 76800 bytes"),  # a 1-byte gap
        ([(0, 0, 38_400), (0, 38_400, 38_400)], "arrived twice"),
        ([(0, W * H - 5, 10)], "outside"),
    ],
)
def test_gaps_overlaps_and_strays_are_rejected(
    remover: BackgroundRemover, chunks: list[tuple[int, int, int]], needle: str
) -> None:
    deliver(remover, msgs.mask_begin(W, H, total=2))
    for seq, offset, n in chunks:
        deliver(remover, msgs.mask_chunk(seq, offset), [b"\x80" * n])
    assert remover.backend_used == "" and needle in remover.error, remover.error
    assert remover._run.pending.held_bytes == 0  # the broken mask's buffer is dropped


def test_a_second_browser_mask_is_rejected(remover: BackgroundRemover) -> None:
    first, second = some_mask(1), some_mask(2)
    deliver_all(remover, msgs.mask_messages(first, chunk=50_000))
    assert remover.error == "" and remover.backend_used == "browser"
    np.testing.assert_array_equal(remover.mask, first)
    header, *chunks = msgs.mask_messages(second, chunk=50_000)
    deliver(remover, *header)
    assert "already delivered" in remover.error, remover.error
    deliver_all(remover, chunks)  # each one rejected: it has no header
    assert "without its header" in remover.error, remover.error
    np.testing.assert_array_equal(remover.model_mask, first)
    np.testing.assert_array_equal(remover.mask, first)
    np.testing.assert_array_equal(np.asarray(remover.cutout(None))[..., 3], first)


def test_a_different_browser_mask_after_the_kernel_one_is_flagged_not_swapped(
    remover: BackgroundRemover,
) -> None:
    kernel = remover.mask  # nobody answered yet: the kernel twin computes it
    assert remover.backend_used == "kernel" and remover.first_source == "kernel"
    browser = 255 - kernel
    deliver_all(remover, msgs.mask_messages(browser))
    assert remover.error == "" and remover.backend_used == "kernel"  # one mask, the first
    np.testing.assert_array_equal(remover.model_mask, kernel)
    np.testing.assert_array_equal(remover.mask, kernel)
    np.testing.assert_array_equal(np.asarray(remover.cutout(None))[..., 3], kernel)
    assert remover.parity.startswith("differs: IoU 0.0000")
    assert remover.status_info["kind"] == "warn" and "differs" in remover.status
    assert remover.compare()["iou"] == 0.0  # the browser's mask is still there to compare


def test_an_identical_browser_mask_after_the_kernel_one_takes_its_place(
    remover: BackgroundRemover,
) -> None:
    kernel = np.array(remover.mask)
    deliver_all(remover, msgs.mask_messages(kernel))
    assert remover.error == "" and remover.parity == "identical"
    assert remover.first_source == "kernel" and remover.backend_used == "browser"
    np.testing.assert_array_equal(remover.mask, kernel)
    assert remover.status_info["kind"] == "done" and "identical" in remover.status


def test_a_browser_mask_first_gets_its_parity_from_compare(remover: BackgroundRemover) -> None:
    first = some_mask(3)
    deliver_all(remover, msgs.mask_messages(first))
    assert remover.first_source == "browser" and remover.parity == ""  # no kernel mask yet
    iou = remover.compare()["iou"]  # the kernel twin computes its mask now
    assert remover.parity.startswith("differs: IoU"), remover.parity
    assert f"{iou:.4f}" in remover.parity
    np.testing.assert_array_equal(remover.mask, first)  # the first answer stays


def test_oversized_headers_allocate_nothing(remover: BackgroundRemover) -> None:
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(3):
            deliver(remover, msgs.mask_begin(12_000, 12_000, total=69))
            assert "12000x12000" in remover.error, remover.error
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # three accepted headers held 3 x 144,000,000 bytes; a rejection costs a log line
    assert peak - base < 256 * 1024, peak - base
    assert now - base < 64 * 1024, now - base
    assert remover._run.pending.held_bytes == 0


def test_threads_and_flags_from_a_view_are_range_and_type_checked(
    remover: BackgroundRemover,
) -> None:
    for threads in (-5, 1e30, 0, 65, True):
        deliver(remover, msgs.stage(threads=threads))
        assert "'threads'" in remover.error, (threads, remover.error)
        assert remover.threads == 0 and remover.execution_provider == ""
    deliver(remover, msgs.stage(threads=4))
    assert remover.error == "" and remover.threads == 4
    other = msgs.hello(view="view1")
    other["caps"]["crossOriginIsolated"] = "no"
    deliver(remover, other)
    assert "'crossOriginIsolated'" in remover.error, remover.error
    assert remover.cross_origin_isolated is False and remover.capabilities["wasm"] is True


def test_error_is_cleared_by_the_next_good_message(remover: BackgroundRemover) -> None:
    deliver(remover, {"type": "stage", "view": msgs.VIEW, "stage": 7})
    assert "malformed" in remover.error
    deliver(remover, msgs.stage())
    assert remover.error == ""


def test_view_close_drops_partial_masks(remover: BackgroundRemover) -> None:
    deliver(remover, msgs.mask_begin(W, H, total=2))
    assert remover._run.pending.held_bytes == W * H
    remover.close()
    assert remover._run.pending.held_bytes == 0


def test_batch_pool_size_is_capped_by_the_plan(batch: BatchRemover) -> None:
    t0 = time.perf_counter()
    deliver(batch, msgs.pool(10**7))
    assert time.perf_counter() - t0 < 1.0  # main: 7 s building a 10**7-entry trait
    assert "workers" in batch.error and batch.workers == 0 and batch.worker_activity == []
    deliver(batch, msgs.pool(2))
    assert batch.error == "" and batch.worker_activity == ["idle", "idle"]
    with pytest.raises(ValueError, match="workers"):
        BatchRemover([red_square_rgba()], workers=10**7)


def test_batch_short_chunks_do_not_complete_an_image(batch: BatchRemover) -> None:
    deliver(batch, msgs.pool(2))
    deliver(batch, msgs.img_begin(0, W, H, total=1))
    deliver(batch, msgs.img_chunk(0, 0, 0), [b"\x01" * 10])
    assert batch.backends[0] == "" and "10 of 76800 bytes" in batch.error, batch.error
    deliver(batch, msgs.img_begin(1, W, H, total=1))
    deliver(batch, msgs.img_chunk(1, 99, 0), [bytes(W * H)])
    assert batch.backends[1] == "" and "chunk 99" in batch.error, batch.error
    assert batch._results.pending_bytes == 0


def test_batch_checks_threads_and_clears_error(batch: BatchRemover) -> None:
    deliver(batch, msgs.pool(2))
    mask = some_mask(3)
    for threads in (-5, 1e30):
        deliver(batch, *msgs.img_messages(0, mask, threads=threads)[0])
        assert "'threads'" in batch.error and batch.backends[0] == "", batch.error
        assert batch._results.pending_bytes == 0
    deliver_all(batch, msgs.img_messages(0, mask))
    assert batch.error == "" and batch.backends[0] == "browser"
    np.testing.assert_array_equal(batch.masks[0], mask)
    deliver(batch, *msgs.img_messages(0, some_mask(4))[0])
    assert "already received" in batch.error, batch.error
    np.testing.assert_array_equal(batch.masks[0], mask)


def test_a_display_only_view_may_fail_without_changing_the_result(tiny_model: TinyModel) -> None:
    w = BackgroundRemover(
        red_square_rgba(), tiny_model.spec, "fp32", "kernel", registry=tiny_model.registry
    )
    deliver(w, msgs.hello())  # told not to run: the kernel computes the mask
    assert w.error == "" and w.backend_used == "kernel"
    assert w.fallback_reason == "backend='kernel' was requested"
    deliver(w, msgs.failed(stage="decode", reason="the view could not decode the image"))
    assert w.error == "" and w.fallback_reason == "backend='kernel' was requested"
    deliver(w, msgs.stage())  # but it may not report a run
    assert "was not asked to run" in w.error and w.threads == 0


def test_stage_names_match_the_typescript_protocol() -> None:
    """The kernel accepts exactly the stages the front end's StageMsg declares."""
    from pathlib import Path

    ts = (Path(__file__).resolve().parents[3] / "js/src/protocol/remover.ts").read_text()
    declared = re.search(r"stage:\s*((?:\"\w+\"\s*\|?\s*)+);", ts)
    assert declared is not None, "StageMsg.stage not found in remover.ts"
    assert tuple(re.findall(r"\"(\w+)\"", declared[1])) == wire.STAGES
