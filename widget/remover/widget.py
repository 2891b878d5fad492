"""``BackgroundRemover``: remove an image's background in the notebook's browser tab.

The view runs the wrapped model with onnxruntime-web in a Web Worker; the kernel
sends it what it lacks (model and WebAssembly runtime, cached by sha256 in the
browser; the image) and receives the mask. When no browser can run the model, or
none answered, the kernel twin computes the same mask (see :mod:`widget.engine.kernel_twin`).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any

import anywidget
import numpy as np

from segmentation.conversion.wrapper import check_resolution
from segmentation.images import ImageSource, LoadedImage
from segmentation.models.registry import Registry
from segmentation.models.registry import default_registry as _default_registry
from segmentation.models.spec import DEFAULT_MODEL, ModelSpec
from widget import isolation
from widget.engine import route
from widget.engine import webgpu_plan as webgpu
from widget.engine.kernel_twin import (
    browser_model_path,
    compare_masks,
    run_twin,
    run_twin_ahead,
)
from widget.engine.waiting import DisplayTracking, WaitResult, wait_for_browser
from widget.heap import trim_heap
from widget.link.status import Status
from widget.link.view_link import ViewLink
from widget.protocol import common
from widget.protocol import remover as wire
from widget.remover.editing import MaskEditing
from widget.remover.product import ProductPhotos
from widget.remover.run import MAX_MASKS_IN_FLIGHT, Answer, MaskRun
from widget.remover.state import EngineTraits
from widget.transfer.assets import STATIC, Asset, file_asset, wasm_asset
from widget.transfer.bundle import LOADER, BundleTraits
from widget.transfer.encoded import EncodedImage

log = logging.getLogger("pixel_liberation.widget")
BACKENDS = ("auto", "browser", "kernel")
#: Side of the browser's first, low-resolution pass: (384/1024)^2, 1/7 of the full pass's pixels.
DEFAULT_PREVIEW = 384
#: Seconds the browser may take to the full mask before the kernel answers first.
DEFAULT_PATIENCE_S = 1.0
MAX_PATIENCE_S = 600.0
#: When the kernel answers first, the view's own run starts once the kernel's mask arrived, or
#: after this many seconds: on a machine where both share the cores, running beside the kernel
#: would slow the first cut-out (on 2 cores the twin took 1.4 s instead of 0.6 s).
AFTER_KERNEL_S = 10.0


def checked_patience(value: object) -> float:
    """Return ``value`` as seconds of patience, or raise one line saying what is wrong."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"patience must be a number of seconds, got {value!r}")
    seconds = float(value)
    if not (0 < seconds <= MAX_PATIENCE_S):  # NaN fails too
        raise ValueError(f"patience must be in (0, {MAX_PATIENCE_S:g}] seconds, got {value!r}")
    return seconds


class BackgroundRemover(
    DisplayTracking, EngineTraits, MaskEditing, ProductPhotos, BundleTraits, anywidget.AnyWidget
):
    """Remove the background of ``image`` in the browser, with the kernel as twin and fallback.

    Parameters
    ----------
    image : path, bytes, PIL.Image or numpy.ndarray
        Anything :func:`segmentation.images.load_image` accepts.
    model : str or ModelSpec
        Catalog name (default ``"isnet-general-use"``) or a spec (then precision is unused).
    precision : str, optional
        ``"int8-static"`` (default, else the model's only one), ``"fp16"``, ``"fp32"``, ``"int8"``.
    backend : str
        ``"auto"`` (default): the first full mask comes from whichever side gives it sooner:
        the kernel twin when the browser cannot deliver it within ``patience`` (model not
        cached in the browser, no session yet, or its predicted time is longer: see
        :mod:`widget.engine.route`), else the browser; the browser always computes its own
        mask too, which is held against the kernel's (:attr:`parity`). ``"browser"``: the
        browser only, with a low-resolution ``preview`` first; the kernel answers when the
        browser fails or times out. ``"kernel"``: the kernel computes, the browser displays.
    registry : Registry, optional
        Where ``model`` is looked up (default: the process-wide registry).
    timeout_s : float
        How long the browser may take to run the model before falling back.
    execution_provider : str
        ``"auto"``: onnxruntime-web's WebGPU provider when the browser has an adapter and
        it reproduces the kernel's mask of a probe image (else wasm, and
        :attr:`webgpu_fallback_reason` says why); ``"wasm"``: always the wasm provider.
        The trait :attr:`execution_provider` says which one ran
        (see :mod:`widget.engine.webgpu_plan`).
    resolution : int or tuple of int, optional
        Model input ``(height, width)`` (an int: a square), each side a multiple of 32
        up to 2048; None: the model's (1024 for IS-Net). Lower is faster and coarser;
        the kernel twin runs the same resolution, so the masks still match.
    preview : int, optional
        With ``backend="browser"``: side of a first, low-resolution pass (default 384) that
        the browser draws, marked as a preview, before the full mask replaces it
        (``timings["first_mask"]``); same weights, same file. None, or a side not below
        ``resolution``, runs the full pass only. ``"auto"`` draws no preview: the kernel's
        full mask comes sooner than a browser preview.
    patience : float
        Seconds (default 1.0, at most 600) the browser may take to the full mask before the
        kernel answers first (``backend="auto"`` only).

    """

    _esm = LOADER
    _bundle_name = "widget.js"
    _css = STATIC / "widget.css"

    def __init__(
        self,
        image: ImageSource,
        model: str | ModelSpec = DEFAULT_MODEL,
        precision: str | None = None,
        backend: str = "auto",
        *,
        registry: Registry | None = None,
        timeout_s: float = 600.0,
        execution_provider: str = "auto",
        resolution: int | tuple[int, int] | None = None,
        preview: int | None = DEFAULT_PREVIEW,
        patience: float = DEFAULT_PATIENCE_S,
        **kwargs: Any,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self._patience = checked_patience(patience)
        self._resolution_asked = None if resolution is None else check_resolution(resolution)
        self._preview_asked = None if preview is None else check_resolution(preview)[0]
        self._ep_requested = webgpu.checked_request(execution_provider)
        if isinstance(model, ModelSpec):
            self._registry = registry or Registry([model])
            self._spec = model
        else:
            self._registry = registry or _default_registry()
            self._spec = self._registry.get(model, precision)
        self._backend = backend
        self._timeout_s = float(timeout_s)
        self._encoded: EncodedImage | None = EncodedImage(image)  # None once closed
        self._checksum = self._encoded.checksum
        self._size = self._encoded.size
        # the kernel may have to answer first: its mask is computed ahead, off the main thread,
        # started before anything else here (hashing the assets takes a while on first use)
        self._twin_ahead: Future[tuple[np.ndarray, float]] | None = None
        if backend != "browser":
            pixels = self._encoded.pixels()
            size = self._resolution_asked or self._spec_size()
            self._twin_ahead = run_twin_ahead(self._spec, self._registry, pixels, size)
        self._variant_free = precision is None and not isinstance(model, ModelSpec)
        self._set_model_asset()
        self._wasm_asset = wasm_asset()
        self._run = MaskRun()
        self._planned_route: route.Route | None = None
        super().__init__(**kwargs)
        self._link: ViewLink[wire.ViewMessage] = ViewLink(
            self, wire.parse_view_message, self._on_hello, self._on_message
        )
        self._set_resolution()
        self.set_trait("model_key", self._spec.key)
        self.set_trait("backend", backend)

    def _spec_size(self) -> tuple[int, int]:
        return int(self._spec.input_size[0]), int(self._spec.input_size[1])

    def _set_resolution(self) -> None:
        """Resolve ``resolution`` and ``preview`` against the current spec into traits."""
        self._resolution = self._resolution_asked or self._spec_size()
        p = self._preview_asked if self._backend == "browser" else None
        self._preview = (p, p) if p is not None and p < min(self._resolution) else None
        self.set_trait("resolution", list(self._resolution))
        self.set_trait("preview_resolution", self._preview[0] if self._preview else 0)

    # ------------------------------------------------------------------ public API
    @property
    def image(self) -> np.ndarray:
        """The normalised RGBA pixels (uint8 ``[H, W, 4]``) both runtimes are fed."""
        return self._source().pixels()

    def _editing_image(self) -> LoadedImage:  # MaskEditing hook: cutout() composes these pixels
        return self._source().loaded()

    @property
    def _image_asset(self) -> Asset:
        return self._source().asset

    def _source(self) -> EncodedImage:
        if self._encoded is None:
            raise RuntimeError("this BackgroundRemover was closed: create a new one")
        return self._encoded

    def _editing_model_mask(self) -> np.ndarray:
        """uint8 ``[H, W]`` mask: the first full answer (or the browser's identical one).

        Public as ``model_mask``; ``mask`` is the edited one (see :mod:`widget.remover.editing`).
        While a browser view is running the model and no answer exists yet, the read waits
        (see :meth:`wait`) instead of starting a competing kernel inference.
        """
        self._source()  # a closed widget says so at once, instead of waiting for its views
        run = self._run
        with self._link.lock:
            busy = not run.answered and run.browser_running
        if busy:
            self.wait()
        with self._link.lock:
            if run.current is None:
                self._answer_in_kernel("no browser answered (yet)")
            assert run.current is not None  # the kernel answered just above
            return run.current.mask

    @property
    def browser_mask(self) -> np.ndarray | None:
        """The browser's own mask once it arrived (None before, or if it never will).

        With ``backend="auto"`` it may come after the kernel's; :attr:`mask` is then the first
        answer (:attr:`parity` says how the two compare).
        """
        return self._run.browser_mask()

    @property
    def pixels_match(self) -> bool | None:
        """Whether the browser fed the model exactly the kernel's pixels (None: no answer yet)."""
        browser = self._run.browser
        return None if browser is None else browser.checksum == self._checksum

    @property
    def bytes_sent(self) -> dict[str, int]:
        """Bytes this widget sent to its views, by asset kind (``model``, ``wasm``, ``image``)."""
        return self._link.bytes_sent

    @property
    def assets(self) -> dict[str, str]:
        """sha256 of the ``model``, ``wasm`` and ``image`` assets."""
        return {a.kind: a.sha256 for a in (self._model_asset, self._wasm_asset, self._image_asset)}

    def compare(self) -> dict[str, Any]:
        """Compare the browser's mask with the kernel twin's on the same pixels.

        Returns
        -------
        dict
            ``iou``, ``mae``, ``max_abs_diff``, ``differing_pixels``, ``browser_ms``
            (inference in the browser), ``kernel_ms`` and ``pixels_match``.

        Raises
        ------
        RuntimeError
            If no browser has sent a mask yet.

        """
        with self._link.lock:
            browser = self._run.browser_mask()
            if browser is None:
                raise RuntimeError(f"no browser mask yet (status: {self.status!r})")
            kernel = self._kernel_answer()
            if self._run.parity is not None and not self.parity:  # the browser answered first
                self.set_trait("parity", self._run.parity.describe())
        out: dict[str, Any] = dict(compare_masks(browser, kernel.mask))
        out["browser_ms"] = float(self.timings.get("inference", float("nan")))
        out["kernel_ms"] = kernel.ms
        out["pixels_match"] = self.pixels_match
        return out

    def close(self) -> None:
        """Close the widget and release what it holds, in the kernel and in the browser.

        The kernel drops the encoded image, the masks, the transfers and the edit cache;
        every view goes, and with it the view's decoded image, bitmaps, editor history and
        the engine worker's copy of the image (see ``js/src/remover/widget.ts``). The page's
        engine worker itself is recycled once no widget uses it. Reading :attr:`mask`,
        :attr:`image` or :meth:`cutout` afterwards raises ``RuntimeError``.
        """
        self._release_buffers()
        super().close()
        trim_heap()

    def _release_buffers(self) -> None:
        if not hasattr(self, "_link"):  # close() from __del__ of a half-constructed widget
            return
        with self._link.lock:
            self._encoded = None
            self._drop_twin_ahead()
            self._run.close()  # masks still arriving are dropped
            self._link.close()
            self._replayed = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the widget then holds no image or mask)."""
        return self._encoded is None

    def recycle_engine(self) -> int:
        """Ask the views to recycle the page's engine worker now, returning its WASM memory.

        WebAssembly memory never shrinks, so a worker that ran a large model keeps its peak
        heap; a recycled worker is re-created on the next run, which reads the model from
        the browser's cache (IndexedDB) instead of the kernel. A worker that is busy is
        recycled when its current request ends. Returns the number of views asked.
        """
        return self._link.recycle()

    # ------------------------------------------------------------------ the kernel twin
    def _kernel_answer(self) -> Answer:
        """Return the kernel twin's answer, computed once (the run records it)."""
        if self._run.kernel is None:
            ahead = self._take_twin_ahead()
            twin = None
            if ahead is not None:
                try:
                    twin = ahead.result()
                except Exception:  # the run ahead failed: the main thread tries again, and says why
                    log.exception("the kernel mask computed ahead failed; computing it again")
            if twin is None:
                pixels = self._source().pixels()
                twin = run_twin(self._spec, self._registry, pixels, self._resolution)
            self._run.kernel_answered(*twin)
        assert self._run.kernel is not None  # just answered
        return self._run.kernel

    def _drop_twin_ahead(self) -> None:
        ahead, self._twin_ahead = getattr(self, "_twin_ahead", None), None
        if ahead is not None:
            ahead.cancel()  # a run already under way finishes and its result is dropped

    def _take_twin_ahead(self) -> Future[tuple[np.ndarray, float]] | None:
        """Return the kernel mask computed ahead (None: never started, or cancelled in time)."""
        ahead, self._twin_ahead = self._twin_ahead, None
        if ahead is None or ahead.cancel():
            return None  # cancelled before it ran: compute it now
        return ahead

    def _answer_in_kernel(self, reason: str, *, failure: bool = False) -> None:
        """Make the kernel twin's mask the answer, say why, and send it to every view.

        ``failure``: the browser could not run the model (a warning), not a routing choice.
        """
        self._link.set_status(Status("running", "kernel"))
        kernel = self._kernel_answer()
        if self._run.first == "browser":
            return
        self._model_mask_changed()
        self.set_trait("first_source", "kernel")
        self.set_trait("route_reason", reason)
        self.set_trait("fallback_reason", reason)
        self.set_trait("backend_used", "kernel")
        self.set_trait("timings", {"inference": kernel.ms, "total": kernel.ms})
        self.set_trait("progress", 1.0)
        seconds = kernel.ms / 1000
        if self._backend == "kernel":
            status = Status("done", "kernel", seconds=seconds)
        elif failure:
            note = f"the browser could not run it: {reason}"
            status = Status("done", "kernel", seconds=seconds, note=note)
        else:
            status = Status("done", "kernel", seconds=seconds, reason=reason)
        self._link.set_status(status)
        for view in self._link.views:
            self._send_result(view)

    def _send_result(self, view: str) -> None:
        answer = self._run.current
        if answer is None:
            return
        h, w = answer.mask.shape
        self._link.send_result(view, answer.mask.tobytes(), w, h, answer.source)

    # ------------------------------------------------------------------ messages
    def _on_message(self, msg: wire.ViewMessage) -> None:
        run = self._run
        if msg.view not in run.runners:
            if isinstance(msg, wire.Failed):  # a view that only displays can fail to decode
                log.warning("a view that does not run failed (%s): %s", msg.stage, msg.reason)
                return
            kind = type(msg).__name__
            raise common.WireError(f"view {msg.view!r} sent {kind} but was not asked to run")
        if run.browser is not None and msg.view != run.delivered_by:
            kind = type(msg).__name__
            log.info("ignoring %s of view %r: another view's mask came first", kind, msg.view)
            return
        if isinstance(msg, wire.Stage):
            self._on_stage(msg)
        elif isinstance(msg, wire.MaskBegin):
            self._on_mask_begin(msg)
        elif isinstance(msg, wire.MaskChunk):
            self._on_mask_chunk(msg)
        elif isinstance(msg, wire.Late):
            if not run.answered:
                why = f"the browser did not answer within patience ({self._patience:g} s)"
                self._answer_in_kernel(why)
        elif isinstance(msg, wire.Failed):
            run.pending.drop(msg.view)
            log.warning("browser could not run the model (%s): %s", msg.stage, msg.reason)
            if run.browser is not None:
                return
            checking = run.first == "kernel"
            run.browser_gone()
            if checking:  # the kernel's mask stands; the browser could not check it
                status = self._link.status
                note = f"the browser's own run failed ({msg.stage}: {msg.reason})"
                self._link.set_status(Status("done", "kernel", status.detail, status.seconds,
                                             reason=status.reason, note=note))  # fmt: skip
            else:
                self._answer_in_kernel(f"{msg.stage}: {msg.reason}", failure=True)

    def _on_hello(self, msg: common.Hello) -> None:
        caps = msg.caps
        self.set_trait("cross_origin_isolated", caps.get("crossOriginIsolated") is True)
        self.set_trait("threads_hint", isolation.hint(self.cross_origin_isolated))
        run = self._run
        done = run.answered
        go = not done and self._backend != "kernel" and msg.blocker is None
        gpu = None
        if go and self._variant_free and self._ep_requested == "auto":
            self._choose_gpu_variant(caps)
        try_gpu, why_not = webgpu.use_webgpu(self._ep_requested, caps, self._spec, self._registry)
        if go and why_not:
            self.set_trait("webgpu_fallback_reason", why_not)
        if go:
            run.view_runs(msg.view)
        if go and try_gpu:
            gpu = webgpu.gpu_plan(self._spec, self._registry)
            self._model_asset, self._wasm_asset = gpu.model, gpu.wasm
        plan_route = self._route(msg, "webgpu" if gpu else "wasm") if go else None
        assets = [self._image_asset]
        if go:
            assets += [a for a in (self._wasm_asset, self._model_asset) if a.sha256 not in msg.have]
        hybrid = self._backend == "auto"
        plan: dict[str, object] = {
            "model": self._model_asset.info(),
            "wasm": self._wasm_asset.info(),
            "image": self._image_asset.info(),
            "run": go,
            "timeout_s": self._timeout_s,
            "chunk_size": 0,
            "resolution": list(self._resolution),
            "preview": list(self._preview) if self._preview else None,
            "hybrid": hybrid,
            "graph_optimized": self._graph_optimized and gpu is None,
            "patience_s": self._patience
            if hybrid and plan_route and plan_route.first == "browser"
            else None,
            # the kernel goes first: the view's own run waits for its answer, not beside it
            **(
                {"after_kernel_s": AFTER_KERNEL_S}
                if hybrid and plan_route and plan_route.first == "kernel"
                else {}
            ),
            **(gpu.fields if gpu else {}),
        }
        buffers = gpu.buffers if gpu else []
        if go and plan_route is not None and plan_route.first == "kernel":
            # the kernel's mask goes out before the plan: it then waits behind no asset chunk
            # on the wire; the browser's own run checks it afterwards
            self._answer_in_kernel(plan_route.reason)
            self._link.start(msg.view, plan, assets, buffers, self._on_progress)
            return
        self._link.start(msg.view, plan, assets, buffers, self._on_progress)
        if done:
            self._send_result(msg.view)
        elif not go:
            why = msg.blocker or "backend='kernel' was requested"
            self._answer_in_kernel(why, failure=msg.blocker is not None)
        else:
            self._link.set_status(Status("sending"))

    def _route(self, hello: common.Hello, ep: str) -> route.Route:
        """Who answers first for the view that said ``hello`` (see :mod:`widget.engine.route`)."""
        if self._backend == "browser":
            decided = route.Route("browser", "backend='browser' was requested")
        else:
            image = self._image_asset
            job = route.Job(
                self._model_asset.sha256, self._model_asset.size, self._wasm_asset.sha256,
                self._wasm_asset.size, image.size, self._size[0] * self._size[1],
                self._resolution, ep,
            )  # fmt: skip
            decided = route.choose(route.BrowserReport.of(hello), job, self._patience)
        self._planned_route = decided
        return decided

    def _set_model_asset(self) -> None:
        """Choose the model file the views get for the wasm engine (:func:`browser_model_path`)."""
        path, self._graph_optimized = browser_model_path(self._spec, self._registry)
        self._model_asset = file_asset(path, "model")

    def _choose_gpu_variant(self, caps: dict[str, Any]) -> None:
        """With a WebGPU adapter and no precision asked, run the float variant it can run.

        The default static int8 model stays on wasm (see :mod:`widget.engine.webgpu_plan`),
        so an adapter with ``shader-f16`` gets fp16 and one without gets fp32; the twin
        then runs that same file. Sets :attr:`variant_reason` either way.
        """
        precision, reason = webgpu.gpu_variant(caps, self._spec, self._registry)
        if precision is None or precision == self._spec.precision:
            self.set_trait("variant_reason", reason)
            return
        self._spec = self._registry.get(self._spec.name, precision)
        self._drop_twin_ahead()  # it ran the other file
        self._set_model_asset()
        self._set_resolution()
        self.set_trait("model_key", self._spec.key)
        self.set_trait("variant_reason", reason)

    def _on_progress(self, acked: int, total: int) -> None:
        self._link.progress(acked, total)
        if not self._run.answered:
            self._link.set_status(Status("sending", sent=acked, total=total))

    def _on_stage(self, msg: wire.Stage) -> None:
        if self._run.browser is not None:
            return  # a late report of a run whose mask is already here
        if msg.execution_provider:
            self.set_trait("execution_provider", msg.execution_provider)
        if msg.threads:
            self.set_trait("threads", msg.threads)
        if msg.fallback:
            log.warning("browser gave up WebGPU for wasm: %s", msg.fallback)
            self.set_trait("webgpu_fallback_reason", msg.fallback)
        if self._run.answered:
            return  # the kernel's answer stays on the status line
        if msg.stage == "preview":
            side = self.preview_resolution
            self._link.set_status(
                Status("preview", detail=f"{side} px", reason="running the full mask")
            )
        elif msg.stage == "loading":
            self._link.set_status(Status("loading"))
        else:
            self._link.set_status(Status("running", "browser"))

    def _on_mask_begin(self, msg: wire.MaskBegin) -> None:
        if self._run.browser is not None:
            raise common.WireError(f"view {msg.view!r} already delivered its mask (one per run)")
        size = (msg.width, msg.height)
        self._run.pending.begin(
            msg.view,
            msg,
            size,
            msg.total,
            self._size,
            limit=MAX_MASKS_IN_FLIGHT,
            what=f"mask of view {msg.view!r}",
        )

    def _on_mask_chunk(self, msg: wire.MaskChunk) -> None:
        what = f"mask of view {msg.view!r}"
        done = self._run.pending.add(msg.view, msg.seq, msg.offset, msg.data, what)
        if done is None:
            return
        head, mask = done
        run = self._run
        run.browser_answered(msg.view, mask, head.checksum, head.timings.get("inference", 0.0))
        self.set_trait("execution_provider", head.execution_provider)
        self.set_trait("threads", head.threads)
        ep = head.execution_provider
        what = f"{ep}, {self._spec.precision}, {self.threads} thread{'s' * (self.threads > 1)}"
        if run.first == "kernel":
            self._browser_after_kernel(head, what)
            return
        self._drop_twin_ahead()  # the browser answered first: no mask kept for nothing
        self._model_mask_changed()
        self.set_trait("first_source", "browser")
        planned = self._planned_route
        self.set_trait("route_reason", planned.reason if planned else "")
        self.set_trait("backend_used", "browser")
        self.set_trait("fallback_reason", "")
        self.set_trait("timings", head.timings)
        self.set_trait("progress", 1.0)
        total = head.timings.get("total", 0.0)
        gave_up = self.webgpu_fallback_reason
        note = f"WebGPU fell back: {gave_up}" if gave_up else ""
        self._link.set_status(Status("done", "browser", what, total / 1000, note=note))

    def _browser_after_kernel(self, head: wire.MaskBegin, what: str) -> None:
        """Keep one mask when the browser's comes after the kernel's, and record the parity.

        Identical bytes: the browser's mask takes the kernel's place, unseen. Different: the
        kernel's stays (cells may have used it already) and the status says so.
        """
        parity = self._run.parity
        assert parity is not None  # both masks exist
        self.set_trait("parity", parity.describe())
        total = head.timings.get("total", 0.0) / 1000
        kernel = self._run.kernel
        kernel_ms = float("nan") if kernel is None else kernel.ms
        seconds = None if kernel is None else kernel_ms / 1000
        # the timings are the browser's once it answered; the kernel's run is kernel_inference
        self.set_trait("timings", {**head.timings, "kernel_inference": kernel_ms})
        if parity.identical:  # the mask is the browser's now
            self.set_trait("backend_used", "browser")
            self.set_trait("fallback_reason", "")
            words = f"the browser's own mask ({what}, {total:.1f} s) is identical"
            self._link.set_status(Status("done", "kernel", seconds=seconds, reason=words))
            return
        if parity.agrees:  # rounding apart: the kernel's mask stays, nothing to warn of
            words = f"the browser's own mask ({what}, {total:.1f} s) is {parity.describe()}"
            self._link.set_status(Status("done", "kernel", seconds=seconds, reason=words))
            return
        log.warning("the browser's mask differs from the kernel's: %s", parity.describe())
        note = (
            f"the browser's mask ({what}) {parity.describe()}: w.mask stays the kernel's,"
            " w.compare() has the numbers"
        )
        self._link.set_status(Status("done", "kernel", seconds=seconds, note=note))

    # ------------------------------------------------------------------ waiting
    def wait(self, timeout: float | None = None, *, browser: bool = False) -> WaitResult:
        """Block the cell until the mask exists (or the browser's, with ``browser=True``).

        Meanwhile the view's messages are processed (the cell would otherwise hold them
        back), so a notebook run top to bottom (*Run All*, papermill with a browser) gets
        the mask in the next cell. By default it returns with the first full answer: with
        ``backend="auto"`` often the kernel twin's, while the browser still computes its
        own. ``browser=True`` waits for the browser's own mask too (parity: :attr:`parity`,
        :meth:`compare`). Without a browser (nbconvert, nbval, plain Python, a widget never
        displayed) it returns at once, or after a short attach window, with the kernel
        twin's mask and the reason.

        Parameters
        ----------
        timeout : float, optional
            Most seconds to wait (default: the widget's ``timeout_s``). When it passes and
            no mask exists, the kernel computes it.
        browser : bool
            Wait for the browser's own mask as well (or until it cannot come).

        Returns
        -------
        WaitResult
            ``source``: whose mask :attr:`mask` is (``"browser"`` or ``"kernel"``);
            ``reason``: why the kernel's, if it is.

        """
        run = self._run
        lock = self._link.lock
        if self._backend == "kernel":
            with lock:
                if not run.answered:
                    self._answer_in_kernel("backend='kernel' was requested")
            return WaitResult("kernel", "backend='kernel' was requested")

        def done() -> bool:
            with lock:  # a view's message may be mid-way on another thread
                if browser:
                    return run.browser is not None or (run.answered and not run.browser_running)
                return run.answered

        reason = wait_for_browser(
            done,
            lambda: self._link.attached,
            displayed=self._displayed,
            timeout=self._timeout_s if timeout is None else float(timeout),
        )
        with lock:
            if reason and not run.answered:
                run.browser_gone()
                self._answer_in_kernel(reason)
            elif reason and browser and run.browser_running:
                reason = f"no mask of the browser's own: {reason}"
            current = run.current
            source = current.source if current is not None else "kernel"
            why = "" if source == "browser" else reason or self.fallback_reason
        return WaitResult(source, why)
