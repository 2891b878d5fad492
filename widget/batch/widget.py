"""``BatchRemover``: remove the backgrounds of many images on every core of the browser.

Without cross-origin isolation (JupyterLab, Notebook, Colab) onnxruntime-web gets one
thread, so a batch spreads over a page-wide pool of single-threaded workers
(``js/src/engine/worker-pool.ts``). The model and the WebAssembly runtime cross the
websocket once (cached in IndexedDB by sha256, where every pool worker reads them); each image is
sent once and run by whichever worker is free. Images the browser cannot do are
computed by the kernel twin; unreadable images get a per-image error.

Memory stays bounded (:mod:`widget.batch.stream`): the images are read once up front,
one at a time, for their sizes and errors, then read again, sent and released a few at a
time (the view's pool size plus one); masks stay in memory or go to an output folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from segmentation.conversion.wrapper import check_resolution
from segmentation.errors import SegmentationError
from segmentation.images import ImageSource, load_image
from segmentation.models.registry import Registry
from segmentation.models.registry import default_registry as _default_registry
from segmentation.models.spec import DEFAULT_MODEL, ModelSpec
from segmentation.pixels import pixels_checksum
from segmentation.product.presets import PresetArg
from widget.batch.product import ProductWriter
from widget.batch.results import BatchResults
from widget.batch.sharing import KernelShare, SharedQueue
from widget.batch.state import BatchTraits
from widget.batch.stream import ImageStream, MaskStore
from widget.engine.kernel_twin import browser_model_path, compare_masks, run_twin
from widget.engine.waiting import DisplayTracking, WaitResult, wait_for_browser
from widget.heap import trim_heap
from widget.link.status import Status
from widget.link.view_link import ViewLink
from widget.protocol import batch as bw
from widget.protocol import common as wire
from widget.protocol.batch import MAX_POOL_WORKERS
from widget.transfer.assets import STATIC, Asset, file_asset, image_asset, wasm_asset
from widget.transfer.bundle import LOADER, BundleTraits

log = logging.getLogger("pixel_liberation.widget")
#: Most pool workers a batch asks for by default (each ISNet session holds ~1 GB of WASM heap).
DEFAULT_MAX_WORKERS = 4
BACKENDS = ("auto", "browser", "kernel")
#: Why an image's mask is the kernel's when the kernel took it from the shared queue.
KERNEL_SHARE = "the kernel took it from the batch's queue"


class BatchRemover(DisplayTracking, BatchTraits, BundleTraits, anywidget.AnyWidget):
    """Remove the backgrounds of ``images`` in the browser's worker pool.

    Parameters
    ----------
    images : sequence of path, bytes, PIL.Image or numpy.ndarray
        Anything :func:`segmentation.images.load_image` accepts, one entry per image.
    model, precision, registry
        As for :class:`widget.BackgroundRemover`.
    workers : int, optional
        Pool workers to use (1..32). Default: ``min(navigator.hardwareConcurrency, 4)``, and
        at most one per 2 GB of ``navigator.deviceMemory``. Never more than the images.
    backend : str
        ``"auto"`` (default): the view's pool takes the images from the front of one queue and
        the kernel twin from its back, on a background thread, so the batch ends sooner
        (see :mod:`widget.batch.sharing`; :attr:`backends` says who did each image).
        ``"browser"``: the browser's pool alone, the kernel only for what it cannot do.
        ``"kernel"``: the kernel does them all.
    timeout_s : float
        How long one image may run in a worker before the kernel computes it instead.
    thumb_side : int
        Longest side, in CSS pixels, of the cut-outs in the view's grid.
    out_dir : path, optional
        Folder that receives each mask as a PNG (``0007-photo.png``) as soon as it exists.
    keep_masks : bool, optional
        Keep the full masks in memory (default: True without ``out_dir``, else False).
        With ``out_dir`` and ``keep_masks=False`` the kernel's memory does not grow with
        the number of images; :meth:`mask` and :attr:`masks` read the files back.
    threads_per_worker : int, optional
        WebAssembly threads per pool worker in a cross-origin isolated page
        (``python -m widget threads on``); elsewhere always 1. Default 1: workers x 1
        thread, until ``python -m widget.bench batch --isolated --layouts`` measures another
        layout faster. :attr:`layout` says which ran and why.
    resolution : int or tuple of int, optional
        Model input ``(height, width)``, as for :class:`widget.BackgroundRemover`
        (multiples of 32 up to 2048; None: the model's); the twin runs the same.
    preset : str, path, dict or ProductSpec, optional
        Also write each image's product photo to ``out_dir`` (required then) once its mask
        exists: ``0007-photo-amazon.jpg`` (see :mod:`widget.batch.product`,
        :attr:`product_paths`). Checked, with its background image, before any work.

    """

    _esm = LOADER
    _bundle_name = "batch.js"
    _css = STATIC / "widget.css"

    def __init__(
        self,
        images: Sequence[ImageSource],
        model: str | ModelSpec = DEFAULT_MODEL,
        precision: str | None = None,
        workers: int | None = None,
        backend: str = "auto",
        *,
        registry: Registry | None = None,
        timeout_s: float = 600.0,
        thumb_side: int = 96,
        out_dir: str | os.PathLike[str] | None = None,
        keep_masks: bool | None = None,
        threads_per_worker: int | None = None,
        resolution: int | tuple[int, int] | None = None,
        preset: PresetArg | None = None,
        **kwargs: Any,
    ) -> None:
        asked = None if resolution is None else check_resolution(resolution)
        if threads_per_worker is not None and (
            not isinstance(threads_per_worker, int) or not 1 <= threads_per_worker <= 16
        ):
            raise ValueError(
                f"threads_per_worker must be an integer from 1 to 16 or None,"
                f" got {threads_per_worker!r}"
            )
        self._threads_asked = threads_per_worker
        single = isinstance(images, str | bytes | Path | np.ndarray | Image.Image)
        if single or not isinstance(images, Sequence):
            raise TypeError(f"images must be a list of images, got {type(images).__name__}")
        if len(images) == 0:
            raise ValueError("images is empty: pass at least one image")
        if workers is not None and (
            isinstance(workers, bool)
            or not isinstance(workers, int)
            or not 1 <= workers <= MAX_POOL_WORKERS
        ):
            raise ValueError(
                f"workers must be an integer in 1..{MAX_POOL_WORKERS} or None, got {workers!r}"
            )
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if isinstance(model, ModelSpec):
            self._registry, self._spec = registry or Registry([model]), model
        else:
            self._registry = registry or _default_registry()
            self._spec = self._registry.get(model, precision)
        self._backend, self._timeout_s, self._workers = backend, float(timeout_s), workers
        self._resolution = asked or (int(self._spec.input_size[0]), int(self._spec.input_size[1]))
        self._thumb_side = int(thumb_side)
        keep = out_dir is None if keep_masks is None else bool(keep_masks)
        self._products = None if preset is None else ProductWriter(preset, out_dir, images)
        self._store = MaskStore(out_dir, keep, images)
        self._sources: list[ImageSource] = list(images)
        sizes: list[tuple[int, int] | None] = []
        errors: list[str] = []
        for i, src in enumerate(tqdm(images, desc="reading images", leave=False)):
            try:
                sizes.append(load_image(src).size)  # one decoded image at a time, then gone
                errors.append("")
            except (SegmentationError, OSError, ValueError) as exc:
                sizes.append(None)
                errors.append(f"image {i}: {exc}")
        self._results = BatchResults(sizes, errors)
        self._queue = SharedQueue(i for i, e in enumerate(errors) if not e)
        self._share: KernelShare | None = None
        self._stream: ImageStream | None = None
        model_path, self._graph_optimized = browser_model_path(self._spec, self._registry)
        self._model_asset = file_asset(model_path, "model")
        self._wasm_asset = wasm_asset()
        self._runner: str | None = None
        self._closed = False
        self._plan_errors: list[str] = []
        super().__init__(**kwargs)
        self._link: ViewLink[bw.BatchMessage] = ViewLink(
            self, bw.parse_batch_message, self._on_hello, self._on_message
        )
        self.set_trait("model_key", self._spec.key)
        self.set_trait("total", len(images))
        self._update_status()
        if backend == "auto":  # the kernel takes images from the back while the view runs
            self._share = KernelShare(self._queue, self._twin_of, self._kernel_news)
            self._share.start()

    # ------------------------------------------------------------------ public API
    @property
    def errors(self) -> list[str]:
        """Per image: why it has no mask ("" when it has one or may still get one)."""
        return [r.error for r in self._results.records]

    @property
    def masks(self) -> list[np.ndarray | None]:
        """uint8 ``[H, W]`` mask per image (None for an unreadable image).

        While a browser view runs the batch, images it has not answered for yet are None
        (reading this property starts no kernel work: call :meth:`wait` to block until the
        browser is done). Without a running view, the kernel twin computes the pending ones.
        With ``keep_masks=False`` the masks are read back from ``out_dir``: all of them
        in memory at once, so prefer :meth:`mask` or :attr:`mask_paths` for big batches.
        """
        with self._link.lock:
            self._check_open()
            self._kernel_news()
            if self._browser_runs():
                return [self._stored_mask(i) for i in range(len(self._results))]
            self._stop_share()
            pending = self._results.pending()
            for i in tqdm(pending, desc="kernel twin", leave=False, disable=not pending):
                self._kernel(i, "no browser answered (yet)")
            self._update_status()
            return [self._stored_mask(i) for i in range(len(self._results))]

    def mask(self, index: int) -> np.ndarray | None:
        """Image ``index``'s uint8 ``[H, W]`` mask, None while a running browser view owes it.

        Without a running view, the kernel twin computes a missing one (see :attr:`masks`).
        """
        with self._link.lock:
            self._check_open()
            self._kernel_news()
            rec = self._results.records[index]
            if rec.size is not None and not rec.finished and not self._browser_runs():
                if index in self._share_taken():
                    self._stop_share()  # the kernel is at it: its result, not a second run
                self._kernel(index, "no browser answered (yet)")
                self._update_status()
            return self._stored_mask(index)

    @property
    def product_paths(self) -> list[Path | None]:
        """Per image, its product photo in ``out_dir`` (None: no ``preset``, not yet, failed)."""
        return list(self._products.written) if self._products else [None] * len(self._results)

    @property
    def mask_paths(self) -> list[Path | None]:
        """Per image, its mask's PNG in ``out_dir`` once written (None: not (yet) written)."""
        return [r.saved for r in self._results.records]

    def _stored_mask(self, index: int) -> np.ndarray | None:
        rec = self._results.records[index]
        if rec.mask is not None:
            return rec.mask
        return MaskStore.read(rec.saved) if rec.saved is not None else None

    @property
    def backends(self) -> list[str]:
        """Per image: ``"browser"``, ``"kernel"`` or ``""`` (no mask yet / unreadable)."""
        return [r.timing.get("backend", "") for r in self._results.records]

    @property
    def fallback_reasons(self) -> list[str]:
        """Per image: why the kernel computed its mask ("" when the browser did)."""
        return [r.fallback_reason for r in self._results.records]

    @property
    def timings(self) -> dict[str, Any]:
        """Per-image ``worker``, ``start``/``end`` (ms, page clock), and a summary.

        See :meth:`widget.batch.results.BatchResults.timings`.
        """
        return self._results.timings()

    @property
    def bytes_sent(self) -> dict[str, int]:
        """Bytes this widget sent to its views, by asset kind (``model``, ``wasm``, ``image``)."""
        return self._link.bytes_sent

    @property
    def assets(self) -> dict[str, str]:
        """sha256 of the ``model`` and ``wasm`` assets."""
        return {"model": self._model_asset.sha256, "wasm": self._wasm_asset.sha256}

    def compare(self) -> list[dict[str, Any] | None]:
        """Per image, the browser's mask against the kernel twin's on the same pixels.

        Returns
        -------
        list
            One dict per image that the browser did (``iou``, ``mae``, ``max_abs_diff``,
            ``differing_pixels``, ``pixels_match``, ``worker``); None for the others.

        """
        with self._link.lock:
            self._check_open()
            out: list[dict[str, Any] | None] = []
            for i, rec in enumerate(tqdm(self._results.records, desc="compare", leave=False)):
                browser = rec.browser if rec.timing.get("backend") == "browser" else None
                if browser is None and rec.timing.get("backend") == "browser" and rec.saved:
                    browser = MaskStore.read(rec.saved)  # keep_masks=False: read it back
                if browser is None:
                    out.append(None)
                    continue
                pixels = load_image(self._sources[i]).pixels
                kernel = rec.kernel
                if kernel is None:
                    kernel, ms = run_twin(self._spec, self._registry, pixels, self._resolution)
                    if self._store.keep:
                        self._results.set_kernel(i, kernel, ms, "")
                cmp: dict[str, Any] = dict(compare_masks(browser, kernel))
                cmp["pixels_match"] = rec.checksum == pixels_checksum(pixels)
                cmp["worker"] = rec.timing.get("worker")
                out.append(cmp)
            return out

    def close(self) -> None:
        """Close the widget and release its masks in the kernel and its views in the browser.

        Files already written to ``out_dir`` stay. The views go, and with them their
        cut-outs and the image bytes they still held; the page's worker pool is recycled
        once no batch uses it. Reading masks afterwards raises ``RuntimeError``.
        """
        if hasattr(self, "_link"):  # also called by __del__ of a half-constructed widget
            with self._link.lock:
                self._closed = True
                if self._share is not None:
                    self._share.stop()
                self._stream = None
                self._link.close()
                self._results.drop_all()  # masks still arriving are dropped
                for rec in self._results.records:
                    rec.browser = rec.kernel = None
        super().close()
        trim_heap()

    def recycle_engine(self) -> int:
        """Ask the views to recycle the page's worker pool now; return the views asked.

        See :meth:`widget.BackgroundRemover.recycle_engine`.
        """
        return self._link.recycle()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this BatchRemover was closed: create a new one")

    # ------------------------------------------------------------------ kernel twin
    def _twin_of(self, index: int) -> tuple[np.ndarray, float]:
        """Return the kernel twin's mask of image ``index`` and its ms (any thread: reads only)."""
        pixels = load_image(self._sources[index]).pixels
        return run_twin(self._spec, self._registry, pixels, self._resolution)

    def _kernel_news(self) -> None:
        """Record what the kernel's share claimed and finished (on the kernel's main thread)."""
        with self._link.lock:
            share = self._share
            if share is None or self._closed:
                return
            claims, results = share.drain()
            view = self._runner
            for index in claims:  # the view waits for every image in order: it skips these
                if view is not None and self._stream is not None:
                    self._link.send({"type": "img_skip", "view": view, "index": index, "error": ""})
            for r in results:
                rec = self._results.records[r.index]
                if rec.finished:
                    continue
                if r.mask is None:
                    self._unreadable(r.index, f"image {r.index}: {r.error}")
                else:
                    self._results.set_kernel(r.index, r.mask, r.ms, KERNEL_SHARE)
                    self._stored(r.index)
            if claims or results:
                self._update_status()

    def _stop_share(self) -> None:
        """Let the kernel's share finish the image under way and take no more; record it all."""
        if self._share is not None:
            self._share.stop(wait=True)
            self._kernel_news()

    def _kernel(self, index: int, reason: str) -> None:
        self._check_open()
        rec = self._results.records[index]
        if rec.size is None or rec.finished:
            return
        try:
            pixels = load_image(self._sources[index]).pixels
        except (SegmentationError, OSError, ValueError) as exc:
            self._unreadable(index, f"image {index}: {exc}")
            return
        mask, ms = run_twin(self._spec, self._registry, pixels, self._resolution)
        del pixels
        self._results.set_kernel(index, mask, ms, reason)
        self._stored(index)

    def _unreadable(self, index: int, error: str) -> None:
        """Image ``index`` could not be read again (moved, changed since the batch began)."""
        rec = self._results.records[index]
        rec.size, rec.error = None, error

    def _stored(self, index: int) -> None:
        """Image ``index`` has its mask: write it to ``out_dir``; drop it unless kept."""
        rec = self._results.records[index]
        mask = rec.mask
        if mask is None:
            return
        if self._store.out_dir is not None:
            try:
                rec.saved = self._store.write(index, mask)
            except (
                OSError
            ) as exc:  # disk full, folder removed...: keep the mask rather than lose it
                where = self._store.out_dir
                why = exc.strerror or exc
                self.set_trait("error", f"image {index}: cannot write its mask to {where} ({why})")
                return
        if self._products is not None:
            rec.error = self._products.write(index, self._sources[index], mask)
        if not self._store.keep:
            rec.browser = rec.kernel = None

    def _update_status(self) -> None:
        res = self._results
        self.set_trait("done", res.done)
        backends = self.backends
        n_err = sum(bool(e) for e in self.errors)
        parts = [f"{backends.count('browser')} in the browser"]
        if backends.count("kernel"):
            parts.append(f"{backends.count('kernel')} in the kernel")
        if n_err:
            parts.append(f"{n_err} failed")
        used = {b for b in backends if b}
        source = used.pop() if len(used) == 1 else ("mixed" if used else "")
        items = (res.done, len(res))
        if res.done == len(res):
            self._link.set_status(Status("done", source, ", ".join(parts), items=items))
        else:
            self._link.set_status(Status("running", source, ", ".join(parts), items=items))

    def _fall_back_all(self, reason: str) -> None:
        self._stop_share()
        pending = self._results.pending()
        words = f"{len(pending)} images"
        self._link.set_status(Status("running", "kernel", words, reason=reason))
        for i in tqdm(pending, desc="kernel twin", leave=False, disable=not pending):
            self._kernel(i, reason)
        self._update_status()

    # ------------------------------------------------------------------ messages
    def _layout(self, workers: int) -> str:
        """Return "W workers x T threads" and why, for the page that said hello."""
        caps = self.capabilities
        isolated = caps.get("crossOriginIsolated") is True and caps.get("threads") is True
        cores = caps.get("hardwareConcurrency")
        asked = self._threads_asked or 1
        threads = min(asked, cores) if isolated and isinstance(cores, int) and cores > 0 else 1
        if not isolated:
            why = "the page is not cross-origin isolated (python -m widget threads on)"
        elif self._threads_asked is None:
            why = "default: single-threaded workers until another layout is measured faster"
        else:
            why = "threads_per_worker asked"
        return f"{workers} workers x {threads} thread{'s' if threads > 1 else ''}: {why}"

    def _on_message(self, msg: bw.BatchMessage) -> None:
        if msg.view != self._runner:
            kind = type(msg).__name__
            raise wire.WireError(f"view {msg.view!r} sent {kind} but does not run the batch")
        if isinstance(msg, bw.PoolReady):
            self._on_pool(msg)
        elif isinstance(msg, bw.ImageStart):
            self._check_worker(msg.worker)
            if self._results.record(msg.index).size is None:
                raise wire.WireError(
                    f"image {msg.index} could not be read, yet a worker started it"
                )
            self._set_activity(msg.worker, f"image {msg.index}")
        elif isinstance(msg, bw.ImageBegin):
            self._check_worker(msg.worker)
            self._results.begin(msg, limit=self.workers)
        elif isinstance(msg, bw.ImageChunk):
            if self._results.chunk(msg):
                self._set_activity(self._results.records[msg.index].timing["worker"], "idle")
                self._stored(msg.index)
                self._image_done(msg.index)
                self._update_status()
        elif isinstance(msg, bw.ImageFailed):
            self._results.record(msg.index)  # raises for an index outside the batch
            self._results.drop(msg.index)
            log.warning("browser failed on image %d (%s): %s", msg.index, msg.stage, msg.reason)
            if self._results.record(msg.index).browser is None:
                self._kernel(msg.index, f"{msg.stage}: {msg.reason}")
            activity = ["idle" if a == f"image {msg.index}" else a for a in self.worker_activity]
            self.set_trait("worker_activity", activity)
            self._image_done(msg.index)
            self._update_status()

    def _pool_cap(self) -> int:
        """Most workers the view may start: as asked (else the default cap), <= the images."""
        readable = sum(r.size is not None for r in self._results.records)
        return max(1, min(self._workers or DEFAULT_MAX_WORKERS, readable))

    def _on_pool(self, msg: bw.PoolReady) -> None:
        if self.workers:
            raise wire.WireError(f"the pool already started with {self.workers} workers")
        cap = self._pool_cap()
        if msg.workers > cap:
            raise wire.WireError(
                f"the pool may have at most {cap} workers, the view says {msg.workers}"
            )
        self.set_trait("workers", msg.workers)
        self.set_trait("worker_activity", ["idle"] * msg.workers)
        self.set_trait("layout", self._layout(msg.workers))
        if self._stream is None:
            # every image the plan called readable: the view waits for each, in this order;
            # it gets them from the front of the queue, and a skip for those the kernel took
            self._stream = ImageStream(self._queue, max(1, msg.workers) + 1)
            self._kernel_news()
            jobs = {i for i, e in enumerate(self._plan_errors) if not e}
            for index in sorted(self._share_taken() & jobs):
                self._link.send({"type": "img_skip", "view": msg.view, "index": index, "error": ""})
            self._feed()

    def _set_activity(self, worker: int, text: str) -> None:
        activity = list(self.worker_activity)
        activity[worker] = text  # the worker was checked against the pool
        self.set_trait("worker_activity", activity)

    def _check_worker(self, worker: int) -> None:
        if not 0 <= worker < self.workers:
            pool = f"the pool's {self.workers} workers" if self.workers else "no pool yet"
            raise wire.WireError(f"worker {worker} is not one of {pool}")

    def _on_hello(self, msg: wire.Hello) -> None:
        self._kernel_news()  # what the kernel's share did so far is in the plan
        runs = self._runner is None and self._backend != "kernel" and msg.blocker is None
        runs = runs and bool(self._results.pending())
        assets: list[Asset] = []
        if runs:
            self._runner = msg.view
            self._plan_errors = self.errors
            assets = [a for a in (self._wasm_asset, self._model_asset) if a.sha256 not in msg.have]
        plan: dict[str, object] = {
            "model": self._model_asset.info(),
            "wasm": self._wasm_asset.info(),
            "errors": self.errors,
            "kernel": sorted(self._share_taken()),
            "run": runs,
            "workers": self._workers or 0,
            "max_workers": DEFAULT_MAX_WORKERS,
            "timeout_s": self._timeout_s,
            "thumb_side": self._thumb_side,
            "threads_per_worker": self._threads_asked or 1,
            "resolution": list(self._resolution),
            "graph_optimized": self._graph_optimized,
        }
        if not runs:
            self._link.send({**plan, "type": "plan", "view": msg.view, "send": []})
            if self._runner is None:
                self._fall_back_all(msg.blocker or "backend='kernel' was requested")
            return
        self._link.set_status(Status("sending"))
        self._link.start(msg.view, plan, assets, on_progress=self._link.progress)

    # ------------------------------------------------------------------ streaming
    def _feed(self) -> None:
        """Read and send images until the stream's window is full (see ImageStream)."""
        stream, view = self._stream, self._runner
        sender = self._link.sender_of(view) if view is not None else None
        if stream is None or sender is None or view is None:
            return
        while (index := stream.take()) is not None:
            rec = self._results.records[index]
            error = rec.error
            if not rec.finished:
                src = self._sources[index]
                try:
                    asset = image_asset(src, load_image(src))  # the pixels go right after
                except (SegmentationError, OSError, ValueError) as exc:
                    error = f"image {index}: {exc}"
                    self._unreadable(index, error)
                    self._update_status()
            if rec.finished:  # unreadable now, or computed by the kernel meanwhile
                self._link.send({"type": "img_skip", "view": view, "index": index, "error": error})
                stream.finish(index)
                continue
            # chunks are addressed per image: two identical images are two transfers
            key = hashlib.sha256(f"{asset.sha256}/{index}".encode()).hexdigest()
            info = asset.info()
            head = {"type": "img_asset", "view": view, "index": index, "key": key, "info": info}
            self._link.send(head)
            sender.add(replace(asset, sha256=key))

    def _image_done(self, index: int) -> None:
        if self._stream is not None and self._stream.finish(index):
            self._feed()

    # ------------------------------------------------------------------ waiting
    def _browser_runs(self) -> bool:
        """Whether a view or the kernel's share is running the batch (and images are left)."""
        busy = self._runner is not None or (self._share is not None and self._share.busy)
        return busy and bool(self._results.pending())

    def _all_done(self) -> bool:
        """Whether no image is left (the kernel's share's news recorded first)."""
        with self._link.lock:
            self._kernel_news()
            return not self._results.pending()

    def _share_taken(self) -> set[int]:
        return self._share.taken if self._share is not None else set()

    def wait(self, timeout: float | None = None) -> WaitResult:
        """Block the cell until the browser answered for every image; return who computed them.

        The view's messages are processed meanwhile (see :meth:`BackgroundRemover.wait`).
        Images the browser could not do, or all pending ones when no browser answers
        (nbconvert, nbval, plain Python, not displayed, the timeout passed), are computed
        by the kernel twin.

        Parameters
        ----------
        timeout : float, optional
            Most seconds to wait for the whole batch (default: ``timeout_s`` per image).

        Returns
        -------
        WaitResult
            ``source``: ``"browser"``, ``"kernel"`` or ``"mixed"``; ``reason``: why the kernel
            computed some (the distinct reasons, joined), empty if none.

        """
        if timeout is None:
            timeout = self._timeout_s * max(1, len(self._results))
        reason = ""
        if self._backend != "kernel":
            reason = wait_for_browser(
                self._all_done,
                lambda: self._link.attached,
                displayed=self._displayed,
                timeout=float(timeout),
            )
        with self._link.lock:
            if self._results.pending():
                self._runner = None  # the kernel takes over what is left
                self._fall_back_all(reason or "backend='kernel' was requested")
            used = {b for b in self.backends if b}
            source = used.pop() if len(used) == 1 else ("mixed" if used else "kernel")
            reasons = dict.fromkeys(r for r in self.fallback_reasons if r)
        return WaitResult(source, "; ".join(reasons))
