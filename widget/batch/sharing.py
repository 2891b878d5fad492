"""The kernel's share of a batch: one queue of images, the view at its front, the kernel at the end.

With ``backend="auto"`` a :class:`~widget.batch.widget.BatchRemover` does not leave the kernel
idle while the browser's pool works: :class:`KernelShare` takes images from the back of the
:class:`SharedQueue` on a background thread (onnxruntime releases the GIL, so the kernel still
answers the view meanwhile) and runs the kernel twin on them, while the view's pool takes them
from the front. Whichever side is faster does more; on a remote kernel (Colab) the two add up.
The results are handed to the kernel's main thread (its event loop, when there is one), where
the widget records them: nothing here touches the widget's state.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np


class SharedQueue:
    """Images nobody has taken yet, in order; thread-safe at both ends."""

    def __init__(self, indices: Iterable[int]) -> None:
        self._items: deque[int] = deque(indices)
        self._lock = threading.Lock()

    def front(self) -> int | None:
        """Take the next image from the front (the view's side), or None when empty."""
        with self._lock:
            return self._items.popleft() if self._items else None

    def back(self) -> int | None:
        """Take the last image (the kernel's side), or None when empty."""
        with self._lock:
            return self._items.pop() if self._items else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(frozen=True)
class KernelResult:
    """One image the kernel took: its mask and milliseconds, or why it has none."""

    index: int
    mask: np.ndarray | None
    ms: float
    error: str = ""


class KernelShare:
    """Run ``compute`` on images taken from the back of ``images`` until it is empty or stopped.

    Parameters
    ----------
    images : SharedQueue
        The batch's queue.
    compute : callable
        ``compute(index) -> (mask, ms)`` on the background thread; an exception is that
        image's error (its message).
    notify : callable
        Called on the kernel's main thread (through its event loop) after each claim and each
        result; without a running event loop (plain Python) the widget polls :meth:`drain`.

    """

    def __init__(
        self,
        images: SharedQueue,
        compute: Callable[[int], tuple[np.ndarray, float]],
        notify: Callable[[], None],
    ) -> None:
        self._images = images
        self._compute = compute
        self._notify = notify
        self._results: queue.SimpleQueue[KernelResult] = queue.SimpleQueue()
        self._claims: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._stop = threading.Event()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._thread: threading.Thread | None = None
        self.taken: set[int] = set()
        """Images the kernel took (read on the main thread, after :meth:`drain`)."""

    def start(self) -> None:
        """Start taking images on a background thread of its own (a batch may run long)."""
        self._thread = threading.Thread(
            target=self._run, name="pixel-liberation-batch", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            index = self._images.back()
            if index is None:
                return
            self._claims.put(index)
            self._wake()
            try:
                mask, ms = self._compute(index)
                self._results.put(KernelResult(index, mask, ms))
            except Exception as exc:  # the image's failure, reported as its error
                self._results.put(KernelResult(index, None, 0.0, f"{type(exc).__name__}: {exc}"))
            self._wake()

    def _wake(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._notify)

    def drain(self) -> tuple[list[int], list[KernelResult]]:
        """Return the claims and the results that arrived since the last call (main thread)."""
        claims, results = [], []
        while not self._claims.empty():
            claims.append(self._claims.get_nowait())
        while not self._results.empty():
            results.append(self._results.get_nowait())
        self.taken.update(claims)
        return claims, results

    @property
    def busy(self) -> bool:
        """Whether the background thread is still at work."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, wait: bool = False) -> None:
        """Take no more images; with ``wait``, also let the image under way finish."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join()
