"""Run a job's batches on a Dask cluster (``distributed``): local, or one already running.

``DaskEngine("local", workers=N)`` starts a ``distributed.LocalCluster`` of N
single-threaded worker processes on this machine (closed with the engine);
``DaskEngine("tcp://HOST:8786")`` connects to a running scheduler; a
``distributed.Client`` (or a cluster object) is used as is and left open.

Each worker loads the model once: :meth:`DaskEngine.prepare` registers a
:class:`ModelPlugin`, which the scheduler hands to every worker, present and
future (a worker restarted after a crash gets it too); its ``setup`` opens the
model with :func:`segmentation.jobs.model.open_model`, from the worker's cache
(shared with the client, or the same machine) or from the bytes shipped inside
the plugin, both checked by sha256. A worker that cannot get the model fails
the registration, so the job stops before any image with that worker's reason.
Tasks are batches of images with unique keys; the scheduler re-runs the batch
of a worker that died on another worker.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed
from distributed.scheduler import KilledWorker

from segmentation.errors import SegmentationError
from segmentation.jobs.model import ModelRef, open_model, read_payload

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a remote scheduler before giving up.
CONNECT_TIMEOUT_S = 20


class ModelPlugin(WorkerPlugin):
    """Open the job's model on each worker as it joins; optionally carry the bare file.

    Parameters
    ----------
    ref : ModelRef
        The model, by sha256.
    threads : int or None
        onnxruntime intra-op threads of the session.
    payload : bytes or None
        The bare model file, for workers that do not have it (written to their
        cache under ``shipped/``, checked by sha256).

    """

    def __init__(self, ref: ModelRef, threads: int | None, payload: bytes | None) -> None:
        self.ref = ref
        self.threads = threads
        self.payload = payload
        self.name = plugin_name(ref)

    def _open(self) -> None:
        open_model(self.ref, self.threads, self.payload)
        self.payload = None  # the session is open; the scheduler keeps a copy for new workers

    async def setup(self, worker: Any) -> None:
        """Open the model in a thread, so the worker keeps answering the scheduler."""
        await asyncio.to_thread(self._open)


def plugin_name(ref: ModelRef) -> str:
    """Name the plugin on the scheduler: one per model file."""
    return f"pixel-liberation-model-{ref.wrapped_sha256[:16]}"


class DaskEngine:
    """Batches as Dask tasks on a LocalCluster, a remote scheduler or a given client."""

    def __init__(
        self, cluster: object, workers: int | None = None, timeout_s: float = CONNECT_TIMEOUT_S
    ) -> None:
        self._cluster: LocalCluster | None = None
        self._own_client = True
        if isinstance(cluster, Client):
            self.client = cluster
            self._own_client = False
        elif cluster == "local":
            n = workers or os.cpu_count() or 1
            self._cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            self.client = Client(self._cluster)
        elif isinstance(cluster, str):
            try:
                self.client = Client(cluster, timeout=timeout_s)
            except (OSError, TimeoutError) as exc:
                raise SegmentationError(
                    f"cannot reach the Dask scheduler at {cluster} ({exc})"
                ) from None
        else:  # a cluster object (LocalCluster, a cluster manager): connect to it
            self.client = Client(cluster)
        self._address = str(self.client.scheduler_info().get("address", cluster))
        self._futures: list[Future] = []
        self._plugins: list[str] = []

    @property
    def workers(self) -> int:
        """Worker threads the scheduler knows now (at least 1)."""
        info = self.client.scheduler_info()["workers"]
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.values()))

    @property
    def description(self) -> str:
        """``Dask LocalCluster (2 workers)`` or ``Dask scheduler tcp://... (8 workers)``."""
        n = len(self.client.scheduler_info()["workers"])
        where = "LocalCluster" if self._cluster is not None else f"scheduler {self._address}"
        return f"Dask {where} ({n} workers)"

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard's URL, None if the scheduler serves none."""
        try:
            return str(self.client.dashboard_link)
        except (KeyError, AttributeError):
            return None

    def prepare(self, ref: ModelRef, threads: int | None, ship: bool | None) -> None:
        """Register the model plugin: every worker opens the model now, or the job stops.

        ``ship=None`` ships the file to a cluster this engine did not start
        (its workers may be other machines); a LocalCluster reads the cache.
        """
        if ship is None:
            ship = self._cluster is None
        plugin = ModelPlugin(ref, threads, read_payload(ref) if ship else None)
        self._plugins.append(plugin.name)  # unregistered on close, even if a setup failed
        try:
            self.client.register_plugin(plugin, name=plugin.name)
        except SegmentationError:
            raise
        except (OSError, ValueError) as exc:
            raise SegmentationError(f"a Dask worker cannot open {ref.spec.key}: {exc}") from exc

    def imap_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """Submit one task per item (unique keys), yield results as tasks finish."""
        prefix = f"pixel-liberation-{uuid.uuid4().hex[:12]}"
        futures = [
            self.client.submit(fn, item, key=f"{prefix}-{i}", pure=False)
            for i, item in enumerate(items)
        ]
        self._futures = futures
        for fut in as_completed(futures):
            try:
                result: R = fut.result()
            except KilledWorker as exc:
                raise SegmentationError(
                    f"Dask workers died {exc.allowed_failures + 1} times running one batch "
                    "(out of memory?); finished images are in the manifest: run again to resume"
                ) from None
            fut.release()
            yield result

    def abort(self) -> None:
        """Cancel every batch not finished (a running one completes on its worker)."""
        if self._futures:
            self.client.cancel(self._futures)

    def close(self) -> None:
        """Drop the plugins; close the client and the cluster if this engine made them."""
        for name in self._plugins:
            try:
                self.client.unregister_worker_plugin(name)
            except (OSError, ValueError, KeyError):
                pass
        self._plugins = []
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
