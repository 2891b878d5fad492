"""What a browser page did: console messages, page errors, websocket traffic.

:class:`PageLog` records every console message and uncaught page error;
:class:`WsMeter` counts the bytes of every websocket frame the page sends and
receives (JupyterLab's kernel channels are websockets, so this is how a test
proves that a model was, or was not, sent to the browser again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, WebSocket


@dataclass
class PageLog:
    """Console messages and page errors of one page, in order."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> PageLog:
        """Start recording ``page``."""
        page.on("console", self._on_console)
        page.on("pageerror", self._on_error)
        page.on("crash", lambda _p: self.errors.append("page crashed"))
        return self

    def _on_console(self, msg: ConsoleMessage) -> None:
        loc = msg.location or {}
        url = loc.get("url", "")
        where = f" ({url}:{loc.get('lineNumber', '')})" if url else ""
        self.lines.append(f"[{msg.type}] {msg.text}{where}")

    def _on_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        self.errors.append(text)
        self.lines.append(f"[pageerror] {text}")

    def matching(self, pattern: str) -> list[str]:
        """Console lines that match the regular expression ``pattern``."""
        rx = re.compile(pattern)
        return [line for line in self.lines if rx.search(line)]

    def text(self) -> str:
        """Everything recorded, one message per line."""
        return "\n".join(self.lines)


def _size(payload: str | bytes) -> int:
    return len(payload.encode()) if isinstance(payload, str) else len(payload)


@dataclass
class WsMeter:
    """Bytes and frames over every websocket of a page since the last :meth:`reset`.

    Notes
    -----
    Playwright mirrors each frame through the DevTools protocol, which is slow
    for big frames: count bytes with this, never time transfers with it.

    """

    received_bytes: int = 0
    sent_bytes: int = 0
    received_frames: int = 0
    sent_frames: int = 0
    urls: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> WsMeter:
        """Count the frames of every websocket ``page`` opens from now on."""
        page.on("websocket", self._on_socket)
        return self

    def _on_socket(self, ws: WebSocket) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", self._on_received)
        ws.on("framesent", self._on_sent)

    def _on_received(self, payload: str | bytes) -> None:
        self.received_bytes += _size(payload)
        self.received_frames += 1

    def _on_sent(self, payload: str | bytes) -> None:
        self.sent_bytes += _size(payload)
        self.sent_frames += 1

    def reset(self) -> None:
        """Start counting from zero (sockets already open keep being counted)."""
        self.received_bytes = self.sent_bytes = 0
        self.received_frames = self.sent_frames = 0
