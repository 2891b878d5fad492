"""tqdm progress for fetching models: byte bars for assembly, one-step bars for slow steps.

Every function takes ``progress``: ``True`` shows tqdm bars, ``False`` stays
silent, and a callable ``(done, total)`` receives byte counts instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

Progress = Callable[[int, int], None]


@contextmanager
def tqdm_bytes(progress: bool | Progress, desc: str) -> Iterator[Progress | None]:
    """Yield a ``(done, total)`` callback that drives a tqdm byte bar (or the caller's)."""
    if callable(progress):
        yield progress
        return
    if not progress:
        yield None
        return

    bar = tqdm(total=0, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def step(progress: bool | Progress, desc: str) -> Iterator[None]:
    """Show ``desc`` as a one-step tqdm bar around a slow operation when ``progress`` is True."""
    if progress is not True:
        yield
        return

    with tqdm(total=1, desc=desc, unit="step") as bar:
        yield
        bar.update(1)
