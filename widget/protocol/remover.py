"""Messages of :class:`widget.remover.BackgroundRemover`'s views, with validation.

Everything a view sends is untrusted: :func:`parse_view_message` turns a custom
message into one of the dataclasses below or raises :class:`WireError` naming
the problem, so a malformed message becomes an ``error`` trait, never a crash.
The JavaScript side of these shapes is ``js/src/protocol/remover.ts``;
the messages every widget shares are in :mod:`widget.protocol.common`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from widget.protocol.common import (
    COMMON_TYPES,
    MAX_MASK_CHUNK,
    Ack,
    Hello,
    WireError,
    parse_common,
)
from widget.protocol.common import get as _get
from widget.protocol.common import nonneg as _nonneg
from widget.protocol.common import timings as _timings


@dataclass(frozen=True)
class Stage:
    """A view reached a stage (``loading`` or ``running``)."""

    view: str
    stage: str
    execution_provider: str | None
    threads: int | None
    fallback: str | None = None


@dataclass(frozen=True)
class MaskBegin:
    """Header of a mask computed in the browser."""

    view: str
    width: int
    height: int
    total: int
    checksum: int
    timings: dict[str, float]
    execution_provider: str
    threads: int


@dataclass(frozen=True)
class MaskChunk:
    """Part of a mask: ``data`` goes at byte ``offset``."""

    view: str
    seq: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class Failed:
    """The browser could not produce the mask."""

    view: str
    stage: str
    reason: str


ViewMessage = Hello | Ack | Stage | MaskBegin | MaskChunk | Failed


def parse_view_message(content: Any, buffers: list[Any] | None) -> ViewMessage:
    """Validate a custom message from a view.

    Parameters
    ----------
    content : object
        The JSON part of the message.
    buffers : list of bytes-like, optional
        Its binary buffers.

    Returns
    -------
    ViewMessage

    Raises
    ------
    WireError
        If the message is not one of the protocol's shapes.

    """
    if not isinstance(content, dict):
        raise WireError(f"a message must be a JSON object, got {type(content).__name__}")
    kind = _get(content, "type", str)
    view = _get(content, "view", str)
    if kind in COMMON_TYPES:
        return parse_common(content, buffers)
    if kind == "stage":
        ep = content.get("execution_provider")
        threads = content.get("threads")
        fallback = content.get("fallback")
        return Stage(
            view,
            _get(content, "stage", str),
            ep if isinstance(ep, str) else None,
            threads if isinstance(threads, int) and not isinstance(threads, bool) else None,
            fallback if isinstance(fallback, str) else None,
        )
    if kind == "mask_begin":
        width, height = _nonneg(content, "width"), _nonneg(content, "height")
        if width == 0 or height == 0:
            raise WireError(f"mask size {width}x{height} is empty")
        return MaskBegin(
            view,
            width,
            height,
            _nonneg(content, "total"),
            _nonneg(content, "checksum"),
            _timings(_get(content, "timings", dict)),
            _get(content, "execution_provider", str),
            _nonneg(content, "threads"),
        )
    if kind == "mask_chunk":
        if not buffers or len(buffers) != 1:
            raise WireError("mask_chunk needs exactly one binary buffer")
        data = bytes(buffers[0])
        if len(data) > MAX_MASK_CHUNK:
            raise WireError(f"mask chunk of {len(data)} bytes exceeds {MAX_MASK_CHUNK}")
        return MaskChunk(view, _nonneg(content, "seq"), _nonneg(content, "offset"), data)
    if kind == "failed":
        return Failed(view, _get(content, "stage", str), _get(content, "reason", str))
    raise WireError(f"unknown message type {kind!r}")
