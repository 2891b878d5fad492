"""Messages of the batch view (:class:`widget.batch.widget.BatchRemover`), with validation.

The batch view speaks the single widget's ``hello`` and ``ack`` (parsed by
:func:`widget.protocol.common.parse_common`) plus per-image messages that carry the
image's index and the pool worker that ran it. Everything a view sends is
untrusted: :func:`parse_batch_message` raises :class:`widget.protocol.common.WireError`
naming the problem, with every field type- and range-checked by the shared readers
of :mod:`widget.protocol.common`. What depends on the batch (the index exists, the
worker is one of the pool's, the mask's size is the image's) is checked by the widget
and :class:`widget.protocol.assembly.MaskAssembly`. The JavaScript side is
``js/src/protocol/batch.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from widget.protocol.common import (
    COMMON_TYPES,
    Ack,
    Hello,
    WireError,
    checksum,
    chunk_count,
    get,
    integer,
    mask_size,
    name,
    nonneg,
    number,
    one_buffer,
    optional,
    parse_common,
    shown,
    text,
    threads,
    timings,
    view_id,
)

#: Most pool workers a batch may run (each holds a model session of up to ~1 GB).
MAX_POOL_WORKERS = 32


@dataclass(frozen=True)
class PoolReady:
    """The view started its share of the page's worker pool."""

    view: str
    workers: int
    limit_reason: str


@dataclass(frozen=True)
class ImageStart:
    """Worker ``worker`` began image ``index`` (decode, then run)."""

    view: str
    index: int
    worker: int


@dataclass(frozen=True)
class ImageBegin:
    """Header of image ``index``'s mask, computed by pool worker ``worker``.

    ``start`` and ``end`` are milliseconds since the view's batch began (page clock);
    ``timings`` holds ``decode``, ``session_create`` and ``inference`` milliseconds.
    """

    view: str
    index: int
    worker: int
    width: int
    height: int
    total: int
    checksum: int
    start: float
    end: float
    timings: dict[str, float]
    threads: int


@dataclass(frozen=True)
class ImageChunk:
    """Part of image ``index``'s mask: ``data`` goes at byte ``offset``."""

    view: str
    index: int
    seq: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class ImageFailed:
    """The browser could not compute image ``index``'s mask."""

    view: str
    index: int
    stage: str
    reason: str


BatchMessage = Hello | Ack | PoolReady | ImageStart | ImageBegin | ImageChunk | ImageFailed


def _worker(msg: dict[str, Any]) -> int:
    return integer(msg, "worker", 0, MAX_POOL_WORKERS - 1)


def _begin(view: str, m: dict[str, Any]) -> ImageBegin:
    index = nonneg(m, "index")
    width, height = mask_size(m)
    start, end = number(m, "start"), number(m, "end")
    if end < start:
        raise WireError(f"image {index} ends ({end}) before it starts ({start})")
    return ImageBegin(
        view,
        index,
        _worker(m),
        width,
        height,
        chunk_count(m),
        checksum(m),
        start,
        end,
        timings(get(m, "timings", dict)),
        threads(m, "threads"),
    )


def parse_batch_message(content: Any, buffers: list[Any] | None) -> BatchMessage:
    """Validate a custom message from a batch view.

    Parameters
    ----------
    content : object
        The JSON part of the message.
    buffers : list of bytes-like, optional
        Its binary buffers.

    Returns
    -------
    BatchMessage

    Raises
    ------
    WireError
        If the message is not one of the batch protocol's shapes, or a field is out of range.

    """
    if not isinstance(content, dict):
        raise WireError(f"a message must be a JSON object, got {type(content).__name__}")
    kind = get(content, "type", str)
    if kind in COMMON_TYPES:
        return parse_common(content, buffers)
    view = view_id(content)
    if kind == "pool":
        workers = integer(content, "workers", 1, MAX_POOL_WORKERS)
        return PoolReady(view, workers, optional(content, "limit_reason", text) or "")
    if kind == "img_start":
        return ImageStart(view, nonneg(content, "index"), _worker(content))
    if kind == "img_begin":
        return _begin(view, content)
    if kind == "img_chunk":
        data = one_buffer(buffers, "img_chunk")
        index, seq = nonneg(content, "index"), nonneg(content, "seq")
        return ImageChunk(view, index, seq, nonneg(content, "offset"), data)
    if kind == "img_failed":
        index = nonneg(content, "index")
        return ImageFailed(view, index, name(content, "stage"), text(content, "reason"))
    raise WireError(f"unknown batch message type {shown(kind)}")
