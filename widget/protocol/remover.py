"""Messages of :class:`widget.remover.BackgroundRemover`'s views, with validation.

Everything a view sends is untrusted: :func:`parse_view_message` turns a custom
message into one of the dataclasses below or raises :class:`WireError` naming
the problem, so a malformed message becomes an ``error`` trait, never a crash.
Every field is type- and range-checked here; what depends on the widget (the
mask's size is the image's, the chunks cover it exactly) is checked by
:class:`widget.protocol.assembly.MaskAssembly`. The JavaScript side of these
shapes is ``js/src/protocol/remover.ts``; the messages every widget shares are in
:mod:`widget.protocol.common`.
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
    execution_provider,
    get,
    mask_size,
    name,
    nonneg,
    one_buffer,
    optional,
    parse_common,
    shown,
    text,
    threads,
    timings,
    view_id,
)

#: Stages a view reports (``StageMsg`` in js/src/protocol/remover.ts).
STAGES = ("caching", "loading", "running", "preview")


@dataclass(frozen=True)
class Stage:
    """A view reached a stage (``caching``, ``loading``, ``running`` or ``preview`` drawn)."""

    view: str
    stage: str
    execution_provider: str | None
    threads: int | None
    fallback: str | None = None


@dataclass(frozen=True)
class MaskBegin:
    """Header of a mask computed in the browser, sent in ``total`` chunks."""

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
class Late:
    """The view's patience ran out before its full mask: the kernel is to answer now."""

    view: str


@dataclass(frozen=True)
class Failed:
    """The browser could not produce the mask."""

    view: str
    stage: str
    reason: str


ViewMessage = Hello | Ack | Stage | MaskBegin | MaskChunk | Late | Failed


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
        If the message is not one of the protocol's shapes, or a field is out of range.

    """
    if not isinstance(content, dict):
        raise WireError(f"a message must be a JSON object, got {type(content).__name__}")
    kind = get(content, "type", str)
    view = view_id(content)
    if kind in COMMON_TYPES:
        return parse_common(content, buffers)
    if kind == "stage":
        return Stage(
            view,
            name(content, "stage", STAGES),
            optional(content, "execution_provider", execution_provider),
            optional(content, "threads", threads),
            optional(content, "fallback", text),
        )
    if kind == "mask_begin":
        width, height = mask_size(content)
        return MaskBegin(
            view,
            width,
            height,
            chunk_count(content),
            checksum(content),
            timings(get(content, "timings", dict)),
            execution_provider(content, "execution_provider"),
            threads(content, "threads"),
        )
    if kind == "mask_chunk":
        data = one_buffer(buffers, "mask_chunk")
        return MaskChunk(view, nonneg(content, "seq"), nonneg(content, "offset"), data)
    if kind == "late":
        return Late(view)
    if kind == "failed":
        return Failed(view, name(content, "stage"), text(content, "reason"))
    raise WireError(f"unknown message type {shown(kind)}")
