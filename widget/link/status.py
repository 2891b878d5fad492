"""What a widget is doing, as data: stage, source, numbers; its words are made from them.

Widgets set one :class:`Status` at a time (``ViewLink.set_status``); the kernel syncs the
words (trait ``status``) and the data (trait ``status_info``: stage, source, kind, numbers)
to the views, which style the line by ``kind`` and never parse the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: What a widget can be doing.
Stage = Literal[
    "waiting",  # no view has answered yet
    "sending",  # assets cross the websocket (``sent`` of ``total`` bytes)
    "loading",  # the browser creates its model session
    "running",  # a model runs (``source`` says where)
    "preview",  # the browser drew a low-resolution first pass
    "done",  # the result exists (``source``: who made it)
    "failed",  # nothing could make the result
]
#: How a view shows the line.
Kind = Literal["busy", "done", "warn", "error"]
MIB = 1024 * 1024


@dataclass(frozen=True)
class Status:
    """One state of a widget.

    The words are ``HEAD (detail, seconds): reason; note``, e.g. ``"done in the browser
    (wasm, int8-static, 1 thread, 8.6 s)"`` or ``"done in the kernel (0.7 s): the model is
    not cached in this browser yet"``.

    Attributes
    ----------
    stage : str
        One of :data:`Stage`.
    source : str
        ``"browser"``, ``"kernel"``, ``"mixed"`` (a batch) or ``""``.
    detail : str
        What ran ("wasm, int8-static, 1 thread"), or a batch's counts.
    seconds : float or None
        How long the result took, when done.
    sent, total : int or None
        Bytes sent and to send (``sending``).
    items : tuple of int or None
        A batch's images done and in all (its line reads ``"running: 3 / 8 (...)"``).
    reason : str
        Why this source or stage (a routing decision): part of the line, not a warning.
    note : str
        Something the user should act on or know (a fallback after a failure, masks that
        differ): shown as a warning.

    """

    stage: Stage
    source: str = ""
    detail: str = ""
    seconds: float | None = None
    sent: int | None = None
    total: int | None = None
    items: tuple[int, int] | None = None
    reason: str = ""
    note: str = ""

    @property
    def kind(self) -> Kind:
        """``error`` when failed, ``warn`` with a note, ``done`` when done, else ``busy``."""
        if self.stage == "failed":
            return "error"
        if self.note:
            return "warn"
        return "done" if self.stage == "done" else "busy"

    def text(self) -> str:
        """Return the status line in words."""
        if self.stage == "sending" and self.sent is not None and self.total is not None:
            head = f"sending {self.sent / MIB:.1f} / {self.total / MIB:.1f} MiB"
        elif self.items is not None:
            head = f"{self.stage}: {self.items[0]} / {self.items[1]}"
        else:
            where = f" in the {self.source}" if self.source in ("browser", "kernel") else ""
            head = {
                "waiting": "waiting for a browser",
                "sending": "sending assets to the browser",
                "loading": "loading the model in the browser",
                "running": f"running{where}",
                "preview": "preview drawn",
                "done": f"done{where}",
                "failed": "failed",
            }[self.stage]
        seconds = "" if self.seconds is None else f"{self.seconds:.1f} s"
        parts = [p for p in (self.detail, seconds) if p]
        text = f"{head} ({', '.join(parts)})" if parts else head
        if self.reason:
            text += f": {self.reason}"
        if self.note:
            text += f"; {self.note}"
        return text

    def info(self) -> dict[str, Any]:
        """Return the data a view needs to draw the line (JSON-able)."""
        out: dict[str, Any] = {"stage": self.stage, "source": self.source, "kind": self.kind}
        for key in ("seconds", "sent", "total"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.items is not None:
            out["done"], out["items"] = self.items
        return out
