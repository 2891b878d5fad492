"""Where a job's batches run: this process, a local process pool, or a Dask cluster.

An :class:`Engine` maps a picklable function over batches and yields the results
as they complete. :class:`SerialEngine` runs them here, one after the other.
:class:`PoolEngine` spreads them over local processes (``spawn``, every core
by default, each process loading the model once on its first batch); the
processes ignore Ctrl+C, which the client handles: :meth:`Engine.abort` ends
them at once (outputs are written atomically, so a killed writer leaves no
partial file under a final name). They also end with the client, however it
ends: on Linux the kernel kills each one when the client dies
(``PR_SET_PDEATHSIG``), elsewhere each checks between images that the client
is still its parent (:func:`exit_if_orphaned`). :func:`open_engine` picks one; a Dask
cluster (``"local"`` for a ``distributed.LocalCluster``, a scheduler address
such as ``tcp://HOST:PORT``, ``$DASK_SCHEDULER_ADDRESS``, or a
``distributed.Client``) is handled by :mod:`segmentation.jobs.dask_engine`,
imported only then (``distributed`` is the optional ``cluster`` extra).
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol, TypeVar

from segmentation.errors import SegmentationError
from segmentation.jobs.model import ModelRef

T = TypeVar("T")
R = TypeVar("R")

#: Environment variable naming a Dask scheduler to use when no cluster is given.
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


class Engine(Protocol):
    """Runs a function over batches, somewhere, yielding results as they complete."""

    @property
    def description(self) -> str:
        """For people: ``1 process``, ``local pool of 4 processes``, ``Dask ... (2 workers)``."""
        ...

    @property
    def workers(self) -> int:
        """How many batches can run at once (worker processes or threads)."""
        ...

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's address, None without one."""
        ...

    def prepare(self, ref: ModelRef, threads: int | None, ship: bool | None) -> None:
        """Load the model on every worker now where the engine can (Dask), else on first use.

        ``ship``: send the model file along (None: where the engine thinks
        workers may lack it, i.e. on a cluster it did not start).
        """
        ...

    def imap_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for every item, in completion order; a raising call raises here."""
        ...

    def abort(self) -> None:
        """Stop now: cancel what has not started and end the work in flight where owned."""
        ...

    def close(self) -> None:
        """Release the workers (and the cluster, if the engine started it)."""
        ...


def current_worker() -> str:
    """Who is running this code: the Dask worker's address, else ``host:pid``."""
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            return str(distributed.get_worker().address)
        except ValueError:  # not inside a Dask task
            pass
    return f"{socket.gethostname()}:{os.getpid()}"


class SerialEngine:
    """Everything in this process, in order (the reference the others must match)."""

    description = "1 process"
    workers = 1
    dashboard_link: str | None = None

    def prepare(self, ref: ModelRef, threads: int | None, ship: bool | None) -> None:
        """Nothing to do: the model is opened on first use, in this process."""

    def imap_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for each item, in order."""
        for item in items:
            yield fn(item)

    def abort(self) -> None:
        """Nothing runs in the background."""

    def close(self) -> None:
        """Nothing to release."""


#: The client's pid in a pool process (None elsewhere: this process is the client).
_PARENT_PID: int | None = None
#: ``prctl`` option: the signal this process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def exit_if_orphaned() -> None:
    """In a pool process: end now if the client that started it is gone (between images)."""
    if _PARENT_PID is not None and os.getppid() != _PARENT_PID:
        os._exit(1)


def _init_worker(parent_pid: int) -> None:
    """Pool initializer: Ctrl+C is the client's to handle; die with the client.

    The parent may have died before ``prctl`` took effect: checked right after.
    """
    global _PARENT_PID
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _PARENT_PID = parent_pid
    die_with_parent()
    exit_if_orphaned()


class PoolEngine:
    """A pool of ``workers`` local processes (``spawn``), one model session in each."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.description = f"local pool of {workers} processes"
        self.dashboard_link: str | None = None
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        self._aborted = False

    def prepare(self, ref: ModelRef, threads: int | None, ship: bool | None) -> None:
        """Nothing to do: each process opens the model on its first batch (same machine)."""

    def imap_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """Submit every item, then yield results as processes finish them."""
        futures = [self._pool.submit(fn, item) for item in items]
        for fut in as_completed(futures):
            yield fut.result()

    def abort(self) -> None:
        """End the processes at once; every batch not finished then fails as BrokenProcessPool."""
        self._aborted = True
        # ProcessPoolExecutor has no public way to stop running calls: end its processes.
        # (Futures are not cancelled first: Python 3.11's pool then fails to mark them broken.)
        processes = getattr(self._pool, "_processes", None) or {}
        for proc in list(processes.values()):
            proc.terminate()
        for proc in list(processes.values()):
            proc.join(timeout=10)

    def close(self) -> None:
        """Shut the pool down, cancelling what has not started (after abort: waiting for it)."""
        self._pool.shutdown(wait=True, cancel_futures=not self._aborted)


#: Most local worker processes per core: each holds a model session (~0.6 GB for IS-Net).
MAX_WORKERS_PER_CORE = 4


def check_cluster(cluster: object) -> None:
    """Refuse what is neither None, ``"local"``, a scheduler address, nor a Dask client/cluster."""
    if cluster is None:
        return
    if isinstance(cluster, str):
        if cluster != "local" and "://" not in cluster:
            raise ValueError(
                f"cluster must be 'local' or a scheduler address such as tcp://HOST:8786, "
                f"got {cluster!r}"
            )
    elif not (hasattr(cluster, "submit") or hasattr(cluster, "scheduler_address")):
        raise TypeError(
            f"cluster must be None, 'local', a scheduler address or a distributed.Client, "
            f"got a {type(cluster).__name__}"
        )


def check_local_workers(workers: int | None) -> None:
    """Refuse more local processes than :data:`MAX_WORKERS_PER_CORE` per core."""
    cores = os.cpu_count() or 1
    if workers is not None and workers > MAX_WORKERS_PER_CORE * cores:
        raise ValueError(
            f"workers={workers} is more than {MAX_WORKERS_PER_CORE} per core on this "
            f"{cores}-core machine; each worker process holds its own model session"
        )


def open_engine(cluster: object = None, workers: int | None = None, batches: int = 1) -> Engine:
    """Return the engine for these settings.

    Parameters
    ----------
    cluster : None, str or distributed.Client
        None: ``$DASK_SCHEDULER_ADDRESS`` if set, else this machine without Dask
        (``workers`` processes, every core by default; this process alone when
        one process or one batch is enough). ``"local"``: a new
        ``distributed.LocalCluster`` of ``workers`` processes. A scheduler
        address, a ``distributed.Client`` or a cluster object: that cluster.
    workers : int, optional
        Processes of the local pool or the LocalCluster.
    batches : int
        How many batches there are (a pool never gets more processes).

    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if cluster is None:
        cluster = os.environ.get(SCHEDULER_ENV) or None
    if cluster is None or cluster == "local":
        check_local_workers(workers)
    if cluster is None:
        n = min(workers or os.cpu_count() or 1, max(1, batches))
        return SerialEngine() if n == 1 else PoolEngine(n)
    check_cluster(cluster)
    if workers is not None and cluster != "local":
        raise ValueError(
            "workers sets the size of the local pool or of cluster='local'; "
            "an existing cluster has its own workers"
        )
    try:
        # distributed is the optional 'cluster' extra and takes 0.7 s to import:
        # the Dask engine module is loaded only when a cluster is asked for.
        module = importlib.import_module("segmentation.jobs.dask_engine")
    except ModuleNotFoundError as exc:
        if exc.name not in ("distributed", "dask"):
            raise
        raise SegmentationError(
            "a Dask cluster needs the 'distributed' package: "
            "pip install 'pixel-liberation[cluster]'"
        ) from None
    engine: Engine = module.DaskEngine(cluster, workers)
    return engine
