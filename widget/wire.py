"""Message schemas between the kernel and the widget's views, with validation.

Everything a view sends is untrusted: :func:`parse_view_message` turns a custom
message into one of the dataclasses below or raises :class:`WireError` naming
the problem, so a malformed message becomes an ``error`` trait, never a crash.
The JavaScript side of these shapes is ``js/src/protocol.ts``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger("pixel_liberation.widget")
M = TypeVar("M")

#: Largest mask chunk a view may send (tornado drops websocket frames over 10 MiB).
MAX_MASK_CHUNK = 4 * 1024 * 1024


class WireError(ValueError):
    """A message from the front end does not follow the protocol."""


@dataclass(frozen=True)
class Hello:
    """A view started: what it has cached, what it can do, why it cannot run (if so)."""

    view: str
    have: frozenset[str]
    caps: dict[str, Any]
    blocker: str | None


@dataclass(frozen=True)
class Ack:
    """A view stored chunk ``seq`` of ``sha256``."""

    view: str
    sha256: str
    seq: int


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


def _get(msg: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in msg:
        raise WireError(f"{msg.get('type', '?')!s} message lacks {key!r}")
    value = msg[key]
    if isinstance(value, bool) and kind is not bool:
        raise WireError(f"{key!r} must be {kind}, got a bool")
    if not isinstance(value, kind):
        raise WireError(f"{key!r} must be {kind}, got {type(value).__name__}")
    return value


def _nonneg(msg: dict[str, Any], key: str) -> int:
    value = _get(msg, key, int)
    if value < 0:
        raise WireError(f"{key!r} must be >= 0, got {value}")
    return int(value)


def _timings(raw: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in raw.items():
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise WireError(f"timing {k!r} must be a number, got {type(v).__name__}")
        out[str(k)] = float(v)
    return out


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
    if kind == "hello":
        have = _get(content, "have", list)
        if not all(isinstance(h, str) for h in have):
            raise WireError("'have' must be a list of sha256 strings")
        blocker = content.get("blocker")
        if blocker is not None and not isinstance(blocker, str):
            raise WireError("'blocker' must be a string or null")
        return Hello(view, frozenset(have), dict(_get(content, "caps", dict)), blocker)
    if kind == "ack":
        return Ack(view, _get(content, "sha256", str), _nonneg(content, "seq"))
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


def receive(
    widget: Any,
    parse: Callable[[Any, list[Any] | None], M],
    dispatch: Callable[[M], None],
    content: Any,
    buffers: list[Any] | None,
) -> None:
    """Parse one custom message and dispatch it; nothing a view sends may crash the kernel.

    A malformed message and an exception while handling it both end up in the
    widget's ``error`` trait (and the log), naming the problem.

    Parameters
    ----------
    widget : anywidget.AnyWidget
        The receiving widget; it must have an ``error`` trait.
    parse : callable
        Validates ``(content, buffers)`` into a message object or raises :class:`WireError`.
    dispatch : callable
        Handles the parsed message.
    content, buffers
        The custom message as ipywidgets delivers it.

    """
    try:
        msg = parse(content, buffers)
    except WireError as exc:
        log.error("malformed message from the front end: %s", exc)
        widget.set_trait("error", f"malformed message from the front end: {exc}")
        return
    try:
        dispatch(msg)
    except Exception as exc:  # a view must never take the kernel down
        log.exception("pixel-liberation widget failed on %s", type(msg).__name__)
        widget.set_trait("error", f"{type(exc).__name__}: {exc}")
