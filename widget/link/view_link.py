"""The kernel's side of one widget's views: the twin of ``js/src/shared/kernel-link.ts``.

A widget owns one :class:`ViewLink`. The link registers itself for the widget's custom
messages, validates each with the widget's parser and hands it on: a ``hello`` is recorded
(the view's id and capabilities) before the widget's ``on_hello`` decides what to plan; an
``ack`` goes to the view's :class:`~widget.transfer.chunks.ChunkSender`; everything else
goes to the widget's ``on_message``. Messages are handled under :attr:`ViewLink.lock`
(they may arrive on another thread than the cell's). A rejected message, or an exception
while handling one, becomes the widget's ``error`` trait
(:func:`widget.protocol.common.receive`): nothing a view sends can crash the kernel.

Towards the views it sends plans with the assets they lack (``start``), results
(``send_result``), ``recycle`` requests, and every message through one ``send``; it counts
the bytes sent per asset kind, sets the widget's status (words and data, see
:mod:`widget.link.status`) and forgets every view on ``close``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from widget.link.status import Status
from widget.protocol import common
from widget.transfer.assets import Asset
from widget.transfer.chunks import ChunkSender, Send, send_mask

M = TypeVar("M")


class LinkedWidget(Protocol):
    """What the link needs of its widget (an anywidget with the :class:`LinkTraits`)."""

    error: str

    def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """Send a custom message to every view."""

    def on_msg(self, callback: Callable[[Any, Any, list[Any] | None], None]) -> None:
        """Register ``callback(widget, content, buffers)`` for custom messages."""

    def set_trait(self, name: str, value: Any) -> None:
        """Set a (read-only) trait."""


class ViewLink(Generic[M]):
    """Messages between a widget and its views.

    Parameters
    ----------
    widget : anywidget.AnyWidget
        The widget; it must have ``error``, ``status``, ``status_info`` and ``capabilities``
        traits (:class:`widget.link.traits.LinkTraits`).
    parse : callable
        ``parse(content, buffers)`` validates a message into ``M`` (``hello`` and ``ack``
        included) or raises :class:`~widget.protocol.common.WireError`.
    on_hello : callable
        ``on_hello(hello)`` after the view was recorded: the widget plans.
    on_message : callable
        ``on_message(msg)`` for every other message but ``ack``.

    """

    def __init__(
        self,
        widget: LinkedWidget,
        parse: Callable[[Any, list[Any] | None], M],
        on_hello: Callable[[common.Hello], None],
        on_message: Callable[[M], None],
    ) -> None:
        self._widget = widget
        self._parse = parse
        self._on_hello = on_hello
        self._on_message = on_message
        self.sender: Send = self._widget_send
        """Where messages go (the widget's ``send``; a test may capture them here)."""
        self.views: dict[str, common.Hello] = {}
        """Views that said hello, by id, with what they reported."""
        self._senders: dict[str, ChunkSender] = {}
        self.status = Status("waiting")
        """The last status set (:meth:`set_status`)."""
        self.lock = threading.RLock()
        """Held while a message is handled. JupyterLab may deliver the views' messages on a
        kernel subshell's thread, beside the cell running on the main thread: the widget
        holds this lock too wherever a cell reads or changes what the messages change."""
        widget.on_msg(self.receive)

    # ------------------------------------------------------------------ receiving
    def receive(self, _widget: object, content: Any, buffers: list[Any] | None) -> None:
        """Validate and dispatch one custom message (registered with ``on_msg``)."""
        with self.lock:
            common.receive(self._widget, self._parse, self._dispatch, content, buffers)

    def _dispatch(self, msg: M) -> None:
        if isinstance(msg, common.Hello):
            self.views[msg.view] = msg
            self._widget.set_trait("capabilities", msg.caps)
            self._on_hello(msg)
        elif isinstance(msg, common.Ack):
            sender = self._senders.get(msg.view)
            if sender is not None:
                sender.ack(msg.sha256, msg.seq)
        else:
            self._on_message(msg)

    @property
    def attached(self) -> bool:
        """Whether any view said hello."""
        return bool(self.views)

    # ------------------------------------------------------------------ sending
    def _widget_send(self, content: dict[str, object], buffers: list[bytes]) -> None:
        self._widget.send(content, buffers)

    def send(self, content: dict[str, object], buffers: Sequence[bytes] = ()) -> None:
        """Send one custom message (``content`` names its view, or none for all)."""
        self.sender(content, list(buffers))

    def start(
        self,
        view: str,
        plan: dict[str, object],
        assets: list[Asset],
        buffers: Sequence[bytes] = (),
        on_progress: Callable[[int, int], None] | None = None,
    ) -> ChunkSender:
        """Send ``view`` its plan, then ``assets`` in acknowledged chunks; return the sender.

        ``plan`` gets ``type`` ``"plan"``, the view id and ``send`` (the sha256s that
        follow) added; ``buffers`` travel with it.
        """
        self.send(
            {**plan, "type": "plan", "view": view, "send": [a.sha256 for a in assets]}, buffers
        )
        sender = ChunkSender(self.send, view, assets, on_progress)
        self._senders[view] = sender
        sender.start()
        return sender

    def sender_of(self, view: str) -> ChunkSender | None:
        """Return the chunk sender of ``view`` (None before its plan, or after close)."""
        return self._senders.get(view)

    def send_result(self, view: str, mask: bytes, width: int, height: int, source: str) -> None:
        """Send ``view`` a finished mask (``source``: who computed it) in chunks."""
        send_mask(self.send, view, mask, width, height, source)

    @property
    def bytes_sent(self) -> dict[str, int]:
        """Bytes sent to the views, by asset kind (``model``, ``wasm``, ``image``)."""
        out = {"model": 0, "wasm": 0, "image": 0}
        for sender in self._senders.values():
            for kind, n in sender.sent.items():
                out[kind] += n
        return out

    def recycle(self) -> int:
        """Ask every planned view to recycle the page's engine now; return the views asked."""
        for view in self._senders:
            self.send({"type": "recycle", "view": view})
        return len(self._senders)

    # ------------------------------------------------------------------ status
    def set_status(self, status: Status) -> None:
        """Show ``status``: its words in ``status``, its data in ``status_info``."""
        self.status = status
        self._widget.set_trait("status_info", status.info())
        self._widget.set_trait("status", status.text())

    def progress(self, acked: int, total: int) -> None:
        """Set ``progress`` to the acknowledged share of a transfer."""
        self._widget.set_trait("progress", acked / total if total else 1.0)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Forget every view and transfer (what is still in flight is dropped)."""
        self._senders.clear()
        self.views.clear()
