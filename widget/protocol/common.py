"""What every widget's protocol shares: the error, ``hello``/``ack``, field checks, receiving.

Everything a view sends is untrusted. Each widget's parser
(:func:`widget.protocol.remover.parse_view_message`,
:func:`widget.protocol.batch.parse_batch_message`) turns a custom message into a
frozen dataclass or raises :class:`WireError` naming the problem, using the field
readers here; :func:`receive` puts a rejected message into the widget's
``error`` trait instead of crashing the kernel. The JavaScript half is
``js/src/protocol/common.ts``.
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


def get(msg: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``msg[key]`` if it is of type ``kind`` (a bool is never an int here)."""
    if key not in msg:
        raise WireError(f"{msg.get('type', '?')!s} message lacks {key!r}")
    value = msg[key]
    if isinstance(value, bool) and kind is not bool:
        raise WireError(f"{key!r} must be {kind}, got a bool")
    if not isinstance(value, kind):
        raise WireError(f"{key!r} must be {kind}, got {type(value).__name__}")
    return value


def nonneg(msg: dict[str, Any], key: str) -> int:
    """Return ``msg[key]`` if it is an integer >= 0."""
    value = get(msg, key, int)
    if value < 0:
        raise WireError(f"{key!r} must be >= 0, got {value}")
    return int(value)


def timings(raw: dict[str, Any]) -> dict[str, float]:
    """Return a ``{stage: milliseconds}`` object with every value a number."""
    out: dict[str, float] = {}
    for k, v in raw.items():
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise WireError(f"timing {k!r} must be a number, got {type(v).__name__}")
        out[str(k)] = float(v)
    return out


COMMON_TYPES = ("hello", "ack")


def parse_common(content: dict[str, Any], buffers: list[Any] | None) -> Hello | Ack:
    """Validate a ``hello`` or ``ack``, the messages every view of every widget sends."""
    kind = get(content, "type", str)
    view = get(content, "view", str)
    if kind == "hello":
        have = get(content, "have", list)
        if not all(isinstance(h, str) for h in have):
            raise WireError("'have' must be a list of sha256 strings")
        blocker = content.get("blocker")
        if blocker is not None and not isinstance(blocker, str):
            raise WireError("'blocker' must be a string or null")
        return Hello(view, frozenset(have), dict(get(content, "caps", dict)), blocker)
    if kind == "ack":
        return Ack(view, get(content, "sha256", str), nonneg(content, "seq"))
    raise WireError(f"{kind!r} is not a message every view sends")


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
