"""Kernel side of the engine's protocol, without a browser: validation, chunking, windowing."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.images import load_image
from widget.protocol import remover as wire
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
            [b"\0" * (wire.MAX_MASK_CHUNK + 1)],
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
