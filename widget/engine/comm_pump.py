"""Process the kernel's incoming comm messages while a notebook cell blocks.

A cell that waits for a widget's browser view (``w.wait()``) runs on the kernel's
main thread, so the kernel's event loop cannot deliver the view's messages until
the cell returns. :class:`CommPump` reads the pending shell messages itself: comm
messages (``comm_open``, ``comm_msg``, ``comm_close``) go to the kernel's comm
handlers at once (the widgets' ``on_msg`` callbacks run, traits update); every
other message (the next cell's ``execute_request`` of a *Run All*, completions...)
is handed back to the kernel in arrival order, to run once the cell is done.

Works with ipykernel 7 (the main shell's inproc socket fed by the shell-channel
thread, or the shell stream's socket without subshells; the deferred messages go
back through ``Kernel.shell_main``, which queues them behind the running cell) and
ipykernel 6 (the shell stream's socket; deferred messages go through
``Kernel.schedule_dispatch``, the kernel's own FIFO). Outside ipykernel (plain
Python, a test) there is nothing to pump: :func:`current_pump` returns None.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

log = logging.getLogger("pixel_liberation.widget")

#: Message types the pump dispatches during the wait (the rest waits for the cell's end).
COMM_TYPES = frozenset({"comm_open", "comm_msg", "comm_close"})
#: Deferred dispatches still to run (the event loop holds only weak references to tasks).
_DEFERRED: set[asyncio.Future[Any]] = set()


def _kernel() -> Any | None:
    """Return the running ipykernel ``Kernel``, or None outside one."""
    ipykernel = sys.modules.get("ipykernel.kernelbase")
    if ipykernel is None:
        return None
    kernel_cls = getattr(ipykernel, "Kernel", None)
    if kernel_cls is None or not kernel_cls.initialized():
        return None
    return kernel_cls.instance()


class CommPump:
    """Read a kernel's pending shell messages from the cell's thread.

    Parameters
    ----------
    kernel : ipykernel.kernelbase.Kernel
        The running kernel (see :func:`current_pump`).
    socket : zmq.Socket
        The socket the main thread's shell messages arrive on.

    """

    def __init__(self, kernel: Any, socket: Any) -> None:
        self._kernel = kernel
        self._socket = socket
        self.dispatched = 0
        """Comm messages handled during waits."""
        self.deferred = 0
        """Other shell messages handed back to the kernel for after the cell."""

    def pump(self, limit: int = 64) -> int:
        """Handle up to ``limit`` pending messages without blocking; return how many.

        Parameters
        ----------
        limit : int
            Most messages to read in this call (the caller loops).

        """
        import zmq  # ipykernel's own dependency: present whenever a kernel runs

        n = 0
        while n < limit:
            try:
                frames = self._socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            n += 1
            self._handle(frames)
        return n

    def _handle(self, frames: list[Any]) -> None:
        kernel = self._kernel
        session = kernel.session
        msg: dict[str, Any] | None = None
        signature = b""
        if session is not None and len(frames) > 1:
            try:
                idents, rest = session.feed_identities(frames, copy=False)
                signature = bytes(getattr(rest[0], "bytes", rest[0]))
                msg = session.deserialize(list(rest), content=True, copy=False)
            except Exception:  # an unsigned or malformed message: the kernel logs and drops it
                log.warning("dropped an invalid shell message during wait()", exc_info=True)
                return
        msg_type = msg["header"]["msg_type"] if msg is not None else ""
        handler = kernel.shell_handlers.get(msg_type) if msg_type in COMM_TYPES else None
        if msg is None or handler is None:
            # the kernel checks the signature again (replay protection): forget it was seen
            if session is not None:
                session.digest_history.discard(signature)
            self._defer(frames)
            return
        try:
            handler(kernel.shell_stream, idents, msg)  # comm handlers are synchronous
        except Exception:  # the kernel itself logs handler errors and carries on
            log.exception("comm handler failed during wait()")
        self.dispatched += 1

    def _defer(self, frames: list[Any]) -> None:
        """Give a message back to the kernel, behind the running cell, in arrival order."""
        kernel = self._kernel
        self.deferred += 1
        shell_main = getattr(kernel, "shell_main", None)
        if shell_main is not None:  # ipykernel 7: waits for the main shell's lock (FIFO)
            # The same two hops as the kernel's own receive path (a task that starts the
            # handler's task): a message the kernel read just before the wait keeps its
            # place ahead of these, one it reads after the cell stays behind them.
            async def hop() -> None:
                await asyncio.ensure_future(shell_main(None, frames))

            task = asyncio.ensure_future(hop())
            _DEFERRED.add(task)
            task.add_done_callback(_DEFERRED.discard)
        else:  # ipykernel 6: the kernel's dispatch queue
            kernel.schedule_dispatch(kernel.dispatch_shell, frames)


def current_pump() -> CommPump | None:
    """Return a pump for the running ipykernel, or None (no kernel, or one it cannot read).

    Must be called from the kernel's main thread (a cell).
    """
    kernel = _kernel()
    if kernel is None or getattr(kernel, "session", None) is None:
        return None
    socket = None
    channel = getattr(kernel, "shell_channel_thread", None)
    if channel is not None:  # ipykernel 7 with subshells: the main shell's inproc pair
        pair = channel.manager.get_shell_channel_to_subshell_pair(None)
        socket = pair.to_socket
    elif getattr(kernel, "shell_stream", None) is not None:  # ipykernel 6, or 7 without
        socket = kernel.shell_stream.socket
    if socket is None:
        return None
    return CommPump(kernel, socket)
