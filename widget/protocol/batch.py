"""Messages of the batch view (:class:`widget.batch.widget.BatchRemover`), with validation.

The batch view speaks the single widget's ``hello`` and ``ack`` (parsed by
:func:`widget.protocol.remover.parse_view_message`) plus per-image messages that carry the
image's index and the pool worker that ran it. Everything a view sends is
untrusted: :func:`parse_batch_message` raises :class:`widget.protocol.remover.WireError`
naming the problem. The JavaScript side is ``js/src/protocol/batch.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from widget.protocol.common import COMMON_TYPES, MAX_MASK_CHUNK, Ack, Hello, WireError, parse_common


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


def _num(msg: dict[str, Any], key: str) -> float:
    value = msg.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise WireError(f"{msg.get('type', '?')!s} message needs a number {key!r}, got {value!r}")
    return float(value)


def _nonneg(msg: dict[str, Any], key: str) -> int:
    value = msg.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WireError(f"{msg.get('type', '?')!s} message needs an integer {key!r} >= 0")
    return value


def _text(msg: dict[str, Any], key: str) -> str:
    value = msg.get(key)
    if not isinstance(value, str):
        raise WireError(f"{msg.get('type', '?')!s} message needs a string {key!r}")
    return value


def _timings(raw: object) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise WireError("'timings' must be an object")
    return {str(k): _num(raw, str(k)) for k in raw}


def _begin(view: str, m: dict[str, Any]) -> ImageBegin:
    width, height = _nonneg(m, "width"), _nonneg(m, "height")
    if width == 0 or height == 0:
        raise WireError(f"mask size {width}x{height} is empty")
    start, end = _num(m, "start"), _num(m, "end")
    if end < start:
        raise WireError(f"image {m.get('index')} ends ({end}) before it starts ({start})")
    return ImageBegin(
        view,
        _nonneg(m, "index"),
        _nonneg(m, "worker"),
        width,
        height,
        _nonneg(m, "total"),
        _nonneg(m, "checksum"),
        start,
        end,
        _timings(m.get("timings")),
        _nonneg(m, "threads"),
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
        If the message is not one of the batch protocol's shapes.

    """
    if not isinstance(content, dict):
        raise WireError(f"a message must be a JSON object, got {type(content).__name__}")
    kind = content.get("type")
    if kind in COMMON_TYPES:
        return parse_common(content, buffers)
    view = _text(content, "view")
    if kind == "pool":
        workers = _nonneg(content, "workers")
        return PoolReady(view, workers, str(content.get("limit_reason", "")))
    if kind == "img_start":
        return ImageStart(view, _nonneg(content, "index"), _nonneg(content, "worker"))
    if kind == "img_begin":
        return _begin(view, content)
    if kind == "img_chunk":
        if not buffers or len(buffers) != 1:
            raise WireError("img_chunk needs exactly one binary buffer")
        data = bytes(buffers[0])
        if len(data) > MAX_MASK_CHUNK:
            raise WireError(f"mask chunk of {len(data)} bytes exceeds {MAX_MASK_CHUNK}")
        index, seq = _nonneg(content, "index"), _nonneg(content, "seq")
        return ImageChunk(view, index, seq, _nonneg(content, "offset"), data)
    if kind == "img_failed":
        index = _nonneg(content, "index")
        return ImageFailed(view, index, _text(content, "stage"), _text(content, "reason"))
    raise WireError(f"unknown batch message type {kind!r}")
