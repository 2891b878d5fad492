"""Byte-exact assembly of a mask that a view sends in chunks, shared by both widgets.

A view sends a header (``mask_begin`` / ``img_begin``: width, height, number of
chunks) and then chunks that each carry a sequence number, a byte offset and
bytes. :class:`MaskAssembly` accepts the header only when its size is the image's
(before it allocates anything), accepts a chunk only when its number is one the
header announced and has not arrived, and its bytes lie inside the mask and cover
no byte already received, and completes only when every byte is covered exactly
once by exactly the announced chunks. :class:`PendingMasks` keeps the assemblies
in progress by key (the single widget's view id, the batch's image index) and
drops a mask's buffer as soon as it completes or one of its chunks is rejected.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Generic, TypeVar

import numpy as np

from widget.protocol.common import WireError

K = TypeVar("K")
H = TypeVar("H")


class MaskAssembly:
    """One ``width`` x ``height`` uint8 mask arriving in ``chunks`` numbered chunks.

    Parameters
    ----------
    width, height : int
        The header's size; it must equal ``expected``.
    chunks : int
        Chunks the header announced (``1..width * height``).
    expected : tuple of int
        ``(width, height)`` of the image the mask belongs to.
    what : str
        How errors name the mask (e.g. ``"image 3's mask"``).

    Raises
    ------
    WireError
        If the header does not fit the image; nothing is allocated then.

    """

    def __init__(
        self, width: int, height: int, chunks: int, expected: tuple[int, int], what: str = "mask"
    ) -> None:
        ew, eh = expected
        if (width, height) != (ew, eh):
            raise WireError(f"the browser's {what} is {width}x{height}, the image is {ew}x{eh}")
        size = width * height
        if not 1 <= chunks <= size:
            raise WireError(f"a {size}-byte {what} cannot come in {chunks} chunks")
        self.width, self.height, self.chunks, self.what = width, height, chunks, what
        self._starts: list[int] = []  # sorted starts of the received byte ranges
        self._ends: list[int] = []  # their ends (exclusive), in the same order
        self._seqs: set[int] = set()
        self._covered = 0
        self._buf: bytearray | None = bytearray(size)  # only now that the size is the image's

    @property
    def size(self) -> int:
        """Bytes of the complete mask."""
        return self.width * self.height

    @property
    def held_bytes(self) -> int:
        """Bytes of buffer held (0 once completed or released)."""
        return 0 if self._buf is None else len(self._buf)

    def check(self, seq: int, offset: int, n: int) -> None:
        """Raise :class:`WireError` unless chunk ``seq`` of ``n`` bytes at ``offset`` fits.

        It fits when ``seq`` was announced and has not arrived, its bytes lie inside the
        mask and overlap none received, and it leaves the mask completable: the last
        announced chunk must complete it, and no earlier one may.
        """
        what = self.what
        if self._buf is None:
            raise WireError(f"the {what} is already complete")
        if not 0 <= seq < self.chunks:
            raise WireError(f"chunk {seq} of the {what} was not announced (0..{self.chunks - 1})")
        if seq in self._seqs:
            raise WireError(f"chunk {seq} of the {what} arrived twice")
        end = offset + n
        if n < 1 or offset < 0 or end > self.size:
            raise WireError(
                f"chunk {seq} (bytes {offset}..{end}) lies outside the {self.size}-byte {what}"
            )
        i = bisect_right(self._starts, offset)
        after_previous = i == 0 or self._ends[i - 1] <= offset
        before_next = i == len(self._starts) or end <= self._starts[i]
        if not (after_previous and before_next):
            raise WireError(
                f"chunk {seq} (bytes {offset}..{end}) overlaps bytes of the {what} already received"
            )
        covered, last = self._covered + n, len(self._seqs) + 1 == self.chunks
        if last and covered < self.size:
            raise WireError(
                f"all {self.chunks} chunks of the {what} arrived but they cover {covered} of"
                f" {self.size} bytes ({self.size - covered} missing)"
            )
        if covered == self.size and not last:
            raise WireError(
                f"the {what} was complete after {len(self._seqs) + 1} of {self.chunks} chunks"
            )

    def add(self, seq: int, offset: int, data: bytes) -> np.ndarray | None:
        """Store chunk ``seq`` (see :meth:`check`); return the ``[H, W]`` mask once complete.

        The returned array is read-only and owns the buffer; the assembly holds nothing then.
        """
        self.check(seq, offset, len(data))
        assert self._buf is not None  # check() raised otherwise
        end = offset + len(data)
        self._buf[offset:end] = data
        i = bisect_right(self._starts, offset)
        self._starts.insert(i, offset)
        self._ends.insert(i, end)
        self._seqs.add(seq)
        self._covered += len(data)
        if self._covered < self.size:
            return None
        mask = np.frombuffer(self._buf, np.uint8).reshape(self.height, self.width)
        mask.flags.writeable = False
        self.release()
        return mask

    def release(self) -> None:
        """Drop the buffer (the mask will not complete)."""
        self._buf = None
        self._starts, self._ends = [], []


class PendingMasks(Generic[K, H]):
    """Masks being assembled, by key, each with the header ``H`` that announced it."""

    def __init__(self) -> None:
        self._masks: dict[K, tuple[H, MaskAssembly]] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._masks

    def __len__(self) -> int:
        return len(self._masks)

    @property
    def held_bytes(self) -> int:
        """Bytes of buffer held by all masks in progress."""
        return sum(a.held_bytes for _, a in self._masks.values())

    def begin(
        self,
        key: K,
        head: H,
        size: tuple[int, int],
        chunks: int,
        expected: tuple[int, int],
        *,
        limit: int,
        what: str,
    ) -> None:
        """Start assembling ``key``'s mask, announced by ``head`` (checked before allocating).

        Raises
        ------
        WireError
            If ``key``'s mask is already arriving, ``limit`` masks are, or the size is not
            ``expected``.

        """
        if key in self._masks:
            raise WireError(f"a second header for the {what}, which is still arriving")
        if len(self._masks) >= limit:
            raise WireError(f"{limit} masks are already arriving; the {what} is one too many")
        self._masks[key] = (head, MaskAssembly(size[0], size[1], chunks, expected, what))

    def add(
        self, key: K, seq: int, offset: int, data: bytes, what: str
    ) -> tuple[H, np.ndarray] | None:
        """Add a chunk of ``key``'s mask; return ``(header, mask)`` once it is complete.

        A rejected chunk drops the mask it belonged to (it can no longer complete).
        """
        entry = self._masks.get(key)
        if entry is None:
            raise WireError(f"a chunk of the {what} without its header")
        head, assembly = entry
        try:
            mask = assembly.add(seq, offset, data)
        except WireError:
            self.drop(key)
            raise
        if mask is None:
            return None
        del self._masks[key]
        return head, mask

    def drop(self, key: K) -> None:
        """Forget ``key``'s mask in progress, if any."""
        entry = self._masks.pop(key, None)
        if entry is not None:
            entry[1].release()

    def clear(self) -> None:
        """Forget every mask in progress."""
        for key in list(self._masks):
            self.drop(key)
