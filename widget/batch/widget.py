"""``BatchRemover``: remove the backgrounds of many images on every core of the browser.

Without cross-origin isolation (JupyterLab, Notebook, Colab) onnxruntime-web gets one
thread, so a batch spreads over a page-wide pool of single-threaded workers
(``js/src/engine/worker-pool.ts``). The model and the WebAssembly runtime cross the
websocket once (cached in IndexedDB by sha256, where every pool worker reads them); each image is
sent once and run by whichever worker is free. Images the browser cannot do are
computed by the kernel twin; unreadable images get a per-image error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from segmentation.errors import SegmentationError
from segmentation.images import ImageSource, LoadedImage, load_image
from segmentation.models.registry import Registry
from segmentation.models.registry import default_registry as _default_registry
from segmentation.models.spec import DEFAULT_MODEL, ModelSpec
from segmentation.pixels import pixels_checksum
from segmentation.variants.wrapper import check_resolution
from widget.batch.results import BatchResults
from widget.batch.state import BatchTraits
from widget.engine.kernel_twin import compare_masks, run_twin, twin_model_path
from widget.protocol import batch as bw
from widget.protocol import common as wire
from widget.transfer.assets import STATIC, Asset, file_asset, image_asset, wasm_asset
from widget.transfer.chunks import ChunkSender

log = logging.getLogger("pixel_liberation.widget")
#: Most pool workers a batch asks for by default (each ISNet session holds ~1 GB of WASM heap).
DEFAULT_MAX_WORKERS = 4


class BatchRemover(BatchTraits, anywidget.AnyWidget):
    """Remove the backgrounds of ``images`` in the browser's worker pool.

    Parameters
    ----------
    images : sequence of path, bytes, PIL.Image or numpy.ndarray
        Anything :func:`segmentation.images.load_image` accepts, one entry per image.
    model, precision, registry
        As for :class:`widget.BackgroundRemover`.
    workers : int, optional
        Pool workers to use. Default: ``min(navigator.hardwareConcurrency, 4)``, and at
        most one per 2 GB of ``navigator.deviceMemory``. Never more than the images.
    backend : str
        ``"auto"`` (browser, kernel for what it cannot do) or ``"kernel"``.
    timeout_s : float
        How long one image may run in a worker before the kernel computes it instead.
    thumb_side : int
        Longest side, in CSS pixels, of the cut-outs in the view's grid.
    threads_per_worker : int, optional
        WebAssembly threads per pool worker in a cross-origin isolated page
        (``python -m widget threads on``); elsewhere always 1. Default 1: workers x 1
        thread, until ``scripts/bench_batch.py --isolated --layouts`` measures another
        layout faster. :attr:`layout` says which ran and why.
    resolution : int or tuple of int, optional
        Model input ``(height, width)``, as for :class:`widget.BackgroundRemover`
        (multiples of 32 up to 2048; None: the model's); the twin runs the same.

    """

    _esm = STATIC / "batch.js"
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
        threads_per_worker: int | None = None,
        resolution: int | tuple[int, int] | None = None,
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
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
        if backend not in ("auto", "kernel"):
            raise ValueError(f"backend must be 'auto' or 'kernel', got {backend!r}")
        if isinstance(model, ModelSpec):
            self._registry, self._spec = registry or Registry([model]), model
        else:
            self._registry = registry or _default_registry()
            self._spec = self._registry.get(model, precision)
        self._backend, self._timeout_s, self._workers = backend, float(timeout_s), workers
        self._resolution = asked or (int(self._spec.input_size[0]), int(self._spec.input_size[1]))
        self._thumb_side = int(thumb_side)
        self._images: list[LoadedImage | None] = []
        self._assets: list[Asset | None] = []
        errors: list[str] = []
        for i, src in enumerate(tqdm(images, desc="reading images", leave=False)):
            try:
                img = load_image(src)
                self._images.append(img)
                self._assets.append(image_asset(src, img))
                errors.append("")
            except (SegmentationError, OSError, ValueError) as exc:
                self._images.append(None)
                self._assets.append(None)
                errors.append(f"image {i}: {exc}")
        self._results = BatchResults([im.size if im else None for im in self._images], errors)
        self._model_asset = file_asset(twin_model_path(self._spec, self._registry), "model")
        self._wasm_asset = wasm_asset()
        self._senders: dict[str, ChunkSender] = {}
        self._runner: str | None = None
        super().__init__(**kwargs)
        self.set_trait("model_key", self._spec.key)
        self.set_trait("total", len(images))
        self._update_status()
        self.on_msg(self._on_msg)

    # ------------------------------------------------------------------ public API
    @property
    def errors(self) -> list[str]:
        """Per image: why it has no mask ("" when it has one or may still get one)."""
        return [r.error for r in self._results.records]

    @property
    def masks(self) -> list[np.ndarray | None]:
        """uint8 ``[H, W]`` mask per image (None for an unreadable image).

        Images the browser has not answered for (yet) are computed by the kernel twin.
        """
        pending = self._results.pending()
        for i in tqdm(pending, desc="kernel twin", leave=False, disable=not pending):
            self._kernel(i, "no browser answered (yet)")
        self._update_status()
        return [r.mask for r in self._results.records]

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
        kinds = ("model", "wasm", "image")
        return {k: sum(s.sent[k] for s in self._senders.values()) for k in kinds}

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
        out: list[dict[str, Any] | None] = []
        for i, rec in enumerate(self._results.records):
            img = self._images[i]
            if rec.browser is None or img is None:
                out.append(None)
                continue
            self._kernel(i, "")  # a no-op when the twin already ran
            assert rec.kernel is not None
            cmp: dict[str, Any] = dict(compare_masks(rec.browser, rec.kernel))
            cmp["pixels_match"] = rec.checksum == pixels_checksum(img.pixels)
            cmp["worker"] = rec.timing.get("worker")
            out.append(cmp)
        return out

    # ------------------------------------------------------------------ kernel twin
    def _kernel(self, index: int, reason: str) -> None:
        img = self._images[index]
        if img is None or self._results.records[index].kernel is not None:
            return
        mask, ms = run_twin(self._spec, self._registry, img.pixels, self._resolution)
        self._results.set_kernel(index, mask, ms, reason)

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
        state = "done" if res.done == len(res) else "running"
        self.set_trait("status", f"{state}: {res.done} / {len(res)} ({', '.join(parts)})")

    def _fall_back_all(self, reason: str) -> None:
        pending = self._results.pending()
        self.set_trait("status", f"running {len(pending)} images in the kernel: {reason}")
        for i in tqdm(pending, desc="kernel twin", leave=False, disable=not pending):
            self._kernel(i, reason)
        self._update_status()

    # ------------------------------------------------------------------ messages
    def _on_msg(self, _w: object, content: Any, buffers: list[Any] | None) -> None:
        wire.receive(self, bw.parse_batch_message, self._dispatch, content, buffers)

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

    def _dispatch(self, msg: bw.BatchMessage) -> None:
        if isinstance(msg, wire.Hello):
            self._on_hello(msg)
        elif isinstance(msg, wire.Ack):
            sender = self._senders.get(msg.view)
            if sender is not None:
                sender.ack(msg.sha256, msg.seq)
        elif isinstance(msg, bw.PoolReady):
            self.set_trait("workers", msg.workers)
            self.set_trait("worker_activity", ["idle"] * msg.workers)
            self.set_trait("layout", self._layout(msg.workers))
        elif isinstance(msg, bw.ImageStart):
            self._set_activity(msg.worker, f"image {msg.index}")
        elif isinstance(msg, bw.ImageBegin):
            self._results.begin(msg)
        elif isinstance(msg, bw.ImageChunk):
            if self._results.chunk(msg):
                self._set_activity(self._results.records[msg.index].timing["worker"], "idle")
                self._update_status()
        elif isinstance(msg, bw.ImageFailed):
            log.warning("browser failed on image %d (%s): %s", msg.index, msg.stage, msg.reason)
            if self._results.record(msg.index).browser is None:
                self._kernel(msg.index, f"{msg.stage}: {msg.reason}")
            activity = ["idle" if a == f"image {msg.index}" else a for a in self.worker_activity]
            self.set_trait("worker_activity", activity)
            self._update_status()

    def _set_activity(self, worker: int, text: str) -> None:
        activity = list(self.worker_activity)
        if 0 <= worker < len(activity):
            activity[worker] = text
            self.set_trait("worker_activity", activity)

    def _on_hello(self, msg: wire.Hello) -> None:
        self.set_trait("capabilities", msg.caps)
        runs = self._runner is None and self._backend != "kernel" and msg.blocker is None
        runs = runs and bool(self._results.pending())
        unique: dict[str, Asset] = {a.sha256: a for a in self._assets if a is not None}
        assets: list[Asset] = []
        if runs:
            self._runner = msg.view
            lacking = [a for a in (self._wasm_asset, self._model_asset) if a.sha256 not in msg.have]
            assets = lacking + list(unique.values())
        plan: dict[str, object] = {
            "type": "plan",
            "view": msg.view,
            "model": self._model_asset.info(),
            "wasm": self._wasm_asset.info(),
            "images": [a.info() if a is not None else None for a in self._assets],
            "errors": self.errors,
            "send": [a.sha256 for a in assets],
            "run": runs,
            "workers": self._workers or 0,
            "max_workers": DEFAULT_MAX_WORKERS,
            "timeout_s": self._timeout_s,
            "thumb_side": self._thumb_side,
            "threads_per_worker": self._threads_asked or 1,
            "resolution": list(self._resolution),
        }
        self.send(plan, [])
        if not runs:
            if self._runner is None:
                self._fall_back_all(msg.blocker or "backend='kernel' was requested")
            return
        sender = ChunkSender(self.send, msg.view, assets, self._on_progress)
        self._senders[msg.view] = sender
        self.set_trait("status", "sending assets to the browser")
        sender.start()

    def _on_progress(self, acked: int, total: int) -> None:
        self.set_trait("progress", acked / total if total else 1.0)
