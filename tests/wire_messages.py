"""Valid view -> kernel messages of both widgets, and a way to deliver them as ipywidgets does.

The builders mirror what the front end sends (``js/src/remover/link.ts`` and ``job.ts``,
``js/src/batch/link.ts`` and ``job.ts``); tests mutate them to make malformed ones.
:func:`deliver` calls the handlers the widget registered with ``on_msg`` exactly as
ipywidgets' ``Widget._handle_custom_msg`` does (``callback(widget, content, buffers)``, the buffers
as the memoryviews the comm hands over), except that an exception is not swallowed
(ipywidgets' ``CallbackDispatcher`` only logs it), so a test sees anything that escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from ipywidgets import Widget

VIEW = "view0"
CHUNK = 2 * 1024 * 1024  # MASK_CHUNK of js/src/shared/kernel-link.ts

Message = tuple[dict[str, Any], list[bytes]]


def deliver(widget: Widget, content: object, buffers: Sequence[object] | None = ()) -> None:
    """Hand ``(content, buffers)`` to ``widget``'s message handlers as ipywidgets does."""
    views = None
    if buffers is not None:
        views = [memoryview(b) if isinstance(b, bytes | bytearray) else b for b in buffers]
    callbacks = widget._msg_callbacks.callbacks
    assert callbacks, "the widget registered no message handler"
    for callback in callbacks:
        callback(widget, content, views)


def hello(view: str = VIEW, **fields: Any) -> dict[str, Any]:
    """A view's ``hello``: nothing cached, a plain browser, nothing blocking it."""
    caps = {"wasm": True, "simd": True, "threads": False, "crossOriginIsolated": False}
    msg: dict[str, Any] = {"type": "hello", "view": view, "have": [], "caps": caps}
    msg["blocker"] = None
    msg.update(fields)
    return msg


def stage(view: str = VIEW, **fields: Any) -> dict[str, Any]:
    """``stage: running`` as the single widget's engine sends it after loading the model."""
    msg: dict[str, Any] = {"type": "stage", "view": view, "stage": "running"}
    msg.update({"execution_provider": "wasm", "threads": 1, **fields})
    return msg


def mask_begin(width: int, height: int, total: int = 1, **fields: Any) -> dict[str, Any]:
    """Header of a ``width`` x ``height`` browser mask sent in ``total`` chunks."""
    msg: dict[str, Any] = {
        "type": "mask_begin", "view": VIEW, "width": width, "height": height, "total": total,
        "checksum": 0, "execution_provider": "wasm", "threads": 1,
        "timings": {"transfer": 1.0, "decode": 2.0, "session_create": 3.0, "inference": 4.0,
                    "total": 10.0},
    }  # fmt: skip
    msg.update(fields)
    return msg


def mask_chunk(seq: int, offset: int, view: str = VIEW) -> dict[str, Any]:
    """Header of one mask chunk (its bytes travel as the message's buffer)."""
    return {"type": "mask_chunk", "view": view, "seq": seq, "offset": offset}


def mask_messages(mask: np.ndarray, chunk: int = CHUNK, **fields: Any) -> list[Message]:
    """The ``mask_begin`` and ``mask_chunk`` messages a view sends for ``mask`` ([H, W] uint8)."""
    data = np.ascontiguousarray(mask, np.uint8).tobytes()
    total = max(1, -(-len(data) // chunk))
    h, w = mask.shape
    out: list[Message] = [(mask_begin(w, h, total, **fields), [])]
    for seq in range(total):
        out.append((mask_chunk(seq, seq * chunk), [data[seq * chunk : (seq + 1) * chunk]]))
    return out


def failed(view: str = VIEW, stage: str = "run", reason: str = "boom") -> dict[str, Any]:
    """The single widget's view could not compute the mask."""
    return {"type": "failed", "view": view, "stage": stage, "reason": reason}


def pool(workers: int, view: str = VIEW) -> dict[str, Any]:
    """The batch view started ``workers`` pool workers."""
    return {"type": "pool", "view": view, "workers": workers, "limit_reason": ""}


def img_start(index: int, worker: int = 0, view: str = VIEW) -> dict[str, Any]:
    """Pool worker ``worker`` began image ``index``."""
    return {"type": "img_start", "view": view, "index": index, "worker": worker}


def img_begin(index: int, width: int, height: int, total: int = 1, **fields: Any) -> dict[str, Any]:
    """Header of image ``index``'s mask, as the batch view sends it."""
    msg: dict[str, Any] = {
        "type": "img_begin", "view": VIEW, "index": index, "worker": 0, "width": width,
        "height": height, "total": total, "checksum": 0, "start": 1.0, "end": 2.0, "threads": 1,
        "timings": {"decode": 0.5, "session_create": 0.1, "inference": 0.3},
    }  # fmt: skip
    msg.update(fields)
    return msg


def img_chunk(index: int, seq: int, offset: int, view: str = VIEW) -> dict[str, Any]:
    """Header of one chunk of image ``index``'s mask."""
    return {"type": "img_chunk", "view": view, "index": index, "seq": seq, "offset": offset}


def img_messages(index: int, mask: np.ndarray, chunk: int = CHUNK, **fields: Any) -> list[Message]:
    """The ``img_begin`` and ``img_chunk`` messages for image ``index``'s ``mask``."""
    data = np.ascontiguousarray(mask, np.uint8).tobytes()
    total = max(1, -(-len(data) // chunk))
    h, w = mask.shape
    out: list[Message] = [(img_begin(index, w, h, total, **fields), [])]
    for seq in range(total):
        out.append((img_chunk(index, seq, seq * chunk), [data[seq * chunk : (seq + 1) * chunk]]))
    return out


def img_failed(index: int, view: str = VIEW) -> dict[str, Any]:
    """The batch view could not compute image ``index``'s mask."""
    return {"type": "img_failed", "view": view, "index": index, "stage": "run", "reason": "boom"}


def deliver_all(widget: Widget, messages: Sequence[Message]) -> None:
    """Deliver several messages in order."""
    for content, buffers in messages:
        deliver(widget, content, buffers)
