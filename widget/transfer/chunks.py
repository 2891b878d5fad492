"""Kernel -> browser transfer of assets in acknowledged chunks.

ZMQ drops bursts of comm messages silently (a high-water mark of ~1000), so a
:class:`ChunkSender` keeps at most ``window`` chunks unacknowledged: each ack
from the view releases the next chunk. Bytes sent are counted per asset for the
whole process in :data:`SENT_BYTES`, which is how tests prove that a cached
asset was not sent again.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator

from widget.transfer.assets import Asset

#: Default chunk size: well under every front end's message limits.
CHUNK_SIZE = 2 * 1024 * 1024
#: Chunks in flight per view.
WINDOW = 2

#: sha256 -> bytes sent to any view by this process.
SENT_BYTES: Counter[str] = Counter()

Send = Callable[[dict[str, object], list[bytes]], None]


def sent_bytes(sha256: str | None = None) -> int:
    """Bytes sent so far of one asset, or of all assets when ``sha256`` is None."""
    return SENT_BYTES[sha256] if sha256 is not None else sum(SENT_BYTES.values())


class ChunkSender:
    """Send ``assets`` to one view, one window of chunks at a time.

    Parameters
    ----------
    send : callable
        ``send(content, buffers)``: the widget's custom-message sender.
    view : str
        The view id the chunks are addressed to.
    assets : list of Asset
        Sent in this order.
    on_progress : callable, optional
        ``on_progress(acked_bytes, total_bytes)`` after each ack.
    chunk_size, window : int
        Chunk size in bytes and chunks in flight.

    """

    def __init__(
        self,
        send: Send,
        view: str,
        assets: list[Asset],
        on_progress: Callable[[int, int], None] | None = None,
        chunk_size: int = CHUNK_SIZE,
        window: int = WINDOW,
    ) -> None:
        self._send = send
        self.view = view
        self.assets = list(assets)
        self.chunk_size = chunk_size
        self.window = max(1, window)
        self._on_progress = on_progress
        self.total_bytes = sum(a.size for a in self.assets)
        self.acked_bytes = 0
        self.sent: Counter[str] = Counter()
        self._pending: dict[tuple[str, int], int] = {}
        self._more: deque[Asset] = deque()
        self._queue = self._chunks()
        self._exhausted = False

    def _chunks(self) -> Iterator[tuple[Asset, int, int, bytes]]:
        for asset in self.assets:
            for seq, offset, data in asset.chunks(self.chunk_size):
                yield asset, seq, offset, data
        yield from self._added()

    def _added(self) -> Iterator[tuple[Asset, int, int, bytes]]:
        while self._more:
            asset = self._more.popleft()  # not kept once its chunks are out (streamed images)
            for seq, offset, data in asset.chunks(self.chunk_size):
                yield asset, seq, offset, data
            del asset

    def add(self, asset: Asset) -> None:
        """Queue one more asset after the others and send what the window allows.

        Unlike the constructor's ``assets``, an added asset is not kept once its last
        chunk is sent: a batch streams its images through one sender.
        """
        self._more.append(asset)
        self.total_bytes += asset.size
        if self._exhausted:
            self._exhausted = False
            self._queue = self._added()
        self._fill()

    @property
    def done(self) -> bool:
        """Whether every chunk was sent and acknowledged."""
        return self._exhausted and not self._pending

    def start(self) -> None:
        """Send the first window of chunks."""
        self._fill()

    def _fill(self) -> None:
        while not self._exhausted and len(self._pending) < self.window:
            item = next(self._queue, None)
            if item is None:
                self._exhausted = True
                break
            asset, seq, offset, data = item
            total = asset.chunk_count(self.chunk_size)
            msg: dict[str, object] = {
                "type": "chunk",
                "view": self.view,
                "sha256": asset.sha256,
                "seq": seq,
                "total": total,
                "offset": offset,
            }
            self._pending[(asset.sha256, seq)] = len(data)
            self._send(msg, [data])
            self.sent[asset.kind] += len(data)
            SENT_BYTES[asset.sha256] += len(data)

    def ack(self, sha256: str, seq: int) -> bool:
        """Record an acknowledgement and send what the window allows; False if unknown."""
        size = self._pending.pop((sha256, seq), None)
        if size is None:
            return False
        self.acked_bytes += size
        if self._on_progress is not None:
            self._on_progress(self.acked_bytes, self.total_bytes)
        self._fill()
        return True


def send_mask(send: Send, view: str, mask: bytes, width: int, height: int, source: str) -> int:
    """Send a mask to a view in chunks of at most :data:`CHUNK_SIZE`; return the chunk count."""
    total = max(1, -(-len(mask) // CHUNK_SIZE))
    for seq in range(total):
        offset = seq * CHUNK_SIZE
        msg: dict[str, object] = {
            "type": "result",
            "view": view,
            "width": width,
            "height": height,
            "seq": seq,
            "total": total,
            "offset": offset,
            "size": len(mask),
            "source": source,
        }
        send(msg, [mask[offset : offset + CHUNK_SIZE]])
    return total
