"""A watchdog for reads that could block: a FIFO opened for reading waits for a writer."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

WATCHDOG_S = 10


@contextmanager
def watchdog(seconds: int = WATCHDOG_S) -> Iterator[None]:
    """Fail with TimeoutError if the block blocks for longer than ``seconds`` (real SIGALRM)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
