"""Run a wrapped model in the kernel: one onnxruntime session, reused for every image.

>>> seg = Segmenter()                       # isnet-general-use, int8-static
>>> mask = seg.mask("photo.jpg")            # uint8 [H, W] at the photo's size
>>> seg.cutout("photo.jpg").save("cut.png")  # RGBA, background transparent

The session runs the model of :func:`segmentation.store.ensure_wrapped` (its graph
optimised once and saved, :mod:`segmentation.conversion.wasm_graph`), whose graph does the
resizing and normalisation, so :meth:`Segmenter.run_pixels` on
the same RGBA bytes gives the same mask as the browser's onnxruntime-web.

Big photos (above :data:`REDUCE_ABOVE_PIXELS`) are the one exception to "the
model runs the decoded pixels": :meth:`Segmenter.mask` and :meth:`Segmenter.cutout`
feed the model a reduced decode and upsample its mask to the full size.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

from segmentation.conversion.wasm_graph import ensure_wasm_graph
from segmentation.conversion.wrapper import (
    MASK,
    PIXELS,
    RESOLUTION,
    check_resolution,
    resolution_feed,
)
from segmentation.cutouts import Background, compose
from segmentation.errors import ImageError, ModelIntegrityError, SegmentationError
from segmentation.image_batch import OnError, Result, iter_results
from segmentation.images import ImageSource, LoadedImage, image_size, load_image, reduced
from segmentation.models.progress import Progress
from segmentation.models.registry import Registry
from segmentation.models.registry import default_registry as _default_registry
from segmentation.models.spec import DEFAULT_MODEL, ModelSpec
from segmentation.product.compose import decontaminated
from segmentation.product.photo import ProductPhoto, load_background, make_product_photo
from segmentation.product.presets import PresetArg, resolve_preset
from segmentation.product.spec import ProductSpec
from segmentation.store import ensure_wrapped

#: Photos with more pixels than this are fed to the model reduced (see :class:`Segmenter`).
REDUCE_ABOVE_PIXELS = 50_000_000

_ENCODED = (str, os.PathLike, bytes, bytearray, memoryview)


def upsample_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 ``[H, W]`` mask to ``size = (width, height)``, bilinear."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    big = Image.fromarray(mask, "L").resize(size, Image.Resampling.BILINEAR)
    return np.array(big, dtype=np.uint8)


def session_options(threads: int | None) -> ort.SessionOptions:
    """Options shared by every session: all graph optimisations, quiet logs, ``threads``."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only: keep the CLI's stderr clean
    if threads is not None:
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
    return so


def check_pixels(rgba: np.ndarray) -> np.ndarray:
    """Validate exact-pixel input: a C-contiguous uint8 ``[H, W, 4]`` array with H, W >= 1."""
    if not isinstance(rgba, np.ndarray):
        raise ImageError(f"pixels must be a numpy array, got {type(rgba).__name__}")
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ImageError(
            f"pixels must be uint8 [H, W, 4] RGBA, got {rgba.dtype} {rgba.shape}; "
            "use load_image() for other inputs"
        )
    if rgba.shape[0] == 0 or rgba.shape[1] == 0:
        raise ImageError(f"pixels have zero size {rgba.shape}")
    return np.ascontiguousarray(rgba)


def _with_mask(
    image: ImageSource | LoadedImage, mask: np.ndarray, max_pixels: int | None
) -> LoadedImage:
    """Decode ``image`` (unless decoded) and check that ``mask`` has its size."""
    loaded = image if isinstance(image, LoadedImage) else load_image(image, max_pixels=max_pixels)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.uint8:
        raise ImageError(f"mask must be a uint8 numpy array, got {getattr(mask, 'dtype', mask)!r}")
    if mask.shape != loaded.pixels.shape[:2]:
        raise ImageError(
            f"mask of shape {mask.shape} does not match the image {loaded.pixels.shape[:2]}"
        )
    return loaded


class Segmenter:
    """A background-removal model ready to run, in this process.

    Parameters
    ----------
    model : str
        Catalog name (see ``python -m segmentation models``).
    precision : str
        ``"int8-static"``, ``"fp16"``, ``"fp32"`` or ``"int8"``; None (default):
        ``"int8-static"`` where the model has it, else its only precision.
    resolution : int or tuple of int, optional
        Model input ``(height, width)`` (an int: a square), each side a positive
        multiple of 32 up to 2048; None: the spec's size (1024 for IS-Net). Lower
        is faster and coarser; the same file runs every resolution, and the
        browser given the same resolution computes the same mask.
    threads : int, optional
        onnxruntime intra-op threads (None: onnxruntime's default).
    providers : sequence of str, optional
        onnxruntime execution providers (default ``["CPUExecutionProvider"]``).
    registry : Registry, optional
        Where ``model`` is looked up (default: the process-wide registry).
    progress : bool or callable
        Show tqdm bars while the model file is obtained or wrapped (True), or
        receive ``progress(done, total)`` byte counts (a callable).
    reduce_above : int or None
        Pixel count above which :meth:`mask` and :meth:`cutout` feed the model
        a reduced image (default :data:`REDUCE_ABOVE_PIXELS`, 50 MP; None:
        never). See Notes.

    Notes
    -----
    Photos up to ``reduce_above`` pixels are fed to the model exactly as
    decoded, the pixels the browser decodes too, so kernel and browser masks
    agree. A bigger photo is decoded reduced by the largest whole factor that
    keeps both sides at least twice the model's input (:attr:`model_min_side`;
    JPEG: DCT scaling in the decoder, other formats and in-memory images: a box
    filter), the model runs on that, and its mask is upsampled (bilinear) to
    the photo's full size. The wrapped graph resizes its input to the model's
    size (1024x1024 for IS-Net) anyway, so the mask barely changes, while a
    108 MP photo takes far less than the several GB its full-size pixels would:
    :meth:`mask` never holds the full photo in memory, :meth:`cutout` decodes it
    fully once, for the cut-out.
    :meth:`run_pixels` always runs exactly the pixels it is given.

    Attributes
    ----------
    spec : ModelSpec
    resolution : tuple of int
        The model input ``(height, width)`` :meth:`run_pixels` uses by default.
    model_path : pathlib.Path
        The wrapped ONNX file the session runs (what identifies the model).
    session_path : pathlib.Path
        The file the session was made from: ``model_path``'s graph as onnxruntime optimised
        and saved it, where that gives the same masks (:mod:`segmentation.conversion.wasm_graph`),
        else ``model_path``.
    last_timings : dict of str to float
        Seconds spent by the last call on ``decode``, ``inference`` and ``total``.

    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        precision: str | None = None,
        resolution: tuple[int, int] | None = None,
        threads: int | None = None,
        providers: Sequence[str] | None = None,
        registry: Registry | None = None,
        progress: bool | Progress = False,
        reduce_above: int | None = REDUCE_ABOVE_PIXELS,
    ) -> None:
        if reduce_above is not None and (
            isinstance(reduce_above, bool) or not isinstance(reduce_above, int) or reduce_above < 1
        ):
            raise ValueError(
                f"reduce_above must be a positive integer or None, got {reduce_above!r}"
            )
        self.reduce_above = reduce_above
        reg = registry or _default_registry()
        self.spec: ModelSpec = reg.get(model, precision)
        self.resolution: tuple[int, int] = (
            (int(self.spec.input_size[0]), int(self.spec.input_size[1]))
            if resolution is None
            else check_resolution(resolution)
        )
        self.threads = threads
        options = session_options(threads)
        self.model_path: Path = ensure_wrapped(self.spec, registry=reg, progress=progress)
        self.session_path: Path = ensure_wasm_graph(self.model_path) or self.model_path
        try:
            self.session = ort.InferenceSession(
                str(self.session_path),
                options,
                providers=list(providers or ["CPUExecutionProvider"]),
            )
        except Exception as exc:  # onnxruntime raises bare Exception subclasses
            raise ModelIntegrityError(
                f"onnxruntime cannot load {self.session_path} ({exc}); delete it to rebuild it"
            ) from exc
        self.last_timings: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"Segmenter({self.spec.key!r}, resolution={self.resolution}, threads={self.threads})"

    def _infer(self, rgba: np.ndarray, resolution: tuple[int, int] | None = None) -> np.ndarray:
        size = self.resolution if resolution is None else resolution
        try:
            (mask,) = self.session.run([MASK], {PIXELS: rgba, RESOLUTION: resolution_feed(size)})
        except Exception as exc:  # onnxruntime raises bare Exception subclasses
            raise SegmentationError(
                f"{self.spec.key}: inference failed on a {rgba.shape[1]}x{rgba.shape[0]} "
                f"image ({exc})"
            ) from exc
        return np.asarray(mask, dtype=np.uint8)

    def run_pixels(
        self, rgba: np.ndarray, resolution: int | tuple[int, int] | None = None
    ) -> np.ndarray:
        """Return the mask of exactly these pixels (no decoding, no EXIF): uint8 ``[H, W]``.

        ``resolution`` overrides :attr:`resolution` for this call (same rules).
        """
        pixels = check_pixels(rgba)
        size = None if resolution is None else check_resolution(resolution)
        start = time.perf_counter()
        mask = self._infer(pixels, size)
        spent = time.perf_counter() - start
        self.last_timings = {"decode": 0.0, "inference": spent, "total": spent}
        return mask

    @property
    def model_min_side(self) -> int:
        """Shortest side a reduced photo keeps: twice the model's larger input side."""
        return 2 * max(self.spec.input_size)

    def _model_input(
        self, image: ImageSource | LoadedImage, max_pixels: int | None
    ) -> tuple[LoadedImage, LoadedImage | None, tuple[int, int]]:
        """Return what the model is fed, the full image if decoded, and the mask's size."""
        if self.reduce_above is not None and isinstance(image, _ENCODED):
            size = image_size(image, max_pixels=max_pixels)
            if size[0] * size[1] > self.reduce_above:
                fed = load_image(image, max_pixels=max_pixels, min_side=self.model_min_side)
                return fed, None, size
        full = image if isinstance(image, LoadedImage) else load_image(image, max_pixels=max_pixels)
        w, h = full.size
        if self.reduce_above is not None and w * h > self.reduce_above:
            return reduced(full, self.model_min_side), full, (w, h)
        return full, full, (w, h)

    def _load_and_run(
        self, image: ImageSource | LoadedImage, max_pixels: int | None, full_pixels: bool
    ) -> tuple[LoadedImage | None, np.ndarray]:
        start = time.perf_counter()
        fed, full, size = self._model_input(image, max_pixels)
        decoded = time.perf_counter()
        mask = self._infer(fed.pixels)
        inferred = time.perf_counter()
        mask = upsample_mask(mask, size)
        if full is None and full_pixels:
            full = load_image(image, max_pixels=max_pixels)  # type: ignore[arg-type]
        done = time.perf_counter()
        self.last_timings = {
            "decode": (decoded - start) + (done - inferred),
            "inference": inferred - decoded,
            "total": done - start,
        }
        return full, mask

    def mask(
        self, image: ImageSource | LoadedImage, *, max_pixels: int | None = None
    ) -> np.ndarray:
        """Return the foreground mask, uint8 ``[H, W]`` (255 = subject), at the upright size.

        ``image`` is anything :func:`~segmentation.images.load_image` reads;
        ``max_pixels`` is its pixel limit (default: 200 MP or
        ``$PIXEL_LIBERATION_MAX_PIXELS``). ``last_timings["decode"]`` counts
        everything but the inference (reading, reducing, upsampling the mask).
        """
        return self._load_and_run(image, max_pixels, full_pixels=False)[1]

    def cutout(
        self,
        image: ImageSource | LoadedImage,
        background: Background = None,
        *,
        max_pixels: int | None = None,
        decontaminate: bool | None = None,
    ) -> Image.Image:
        """Return the subject on a transparent background, or over ``background``.

        See :func:`segmentation.cutouts.compose` for the background rules and
        :meth:`mask` for ``max_pixels``. ``decontaminate`` (default: when a background
        is given) gives the subject's soft edges its own colour instead of the old
        background's (:mod:`segmentation.product.decontaminate`).
        """
        loaded, mask = self._load_and_run(image, max_pixels, full_pixels=True)
        assert loaded is not None  # full_pixels=True always decodes the full image
        if decontaminate if decontaminate is not None else background is not None:
            loaded = replace(loaded, pixels=decontaminated(loaded.pixels, mask))
        return compose(loaded, mask, background)

    def product(
        self,
        image: ImageSource | LoadedImage,
        preset: PresetArg | None = None,
        *,
        mask: np.ndarray | None = None,
        user_presets: dict[str, ProductSpec] | None = None,
        max_pixels: int | None = None,
        **overrides: Any,
    ) -> ProductPhoto:
        """Return a marketplace-ready product photo of ``image``: framed, on a new background.

        Parameters
        ----------
        image : path, bytes, PIL.Image.Image, numpy.ndarray or LoadedImage
            Anything :func:`~segmentation.images.load_image` reads.
        preset : str, path, dict or ProductSpec, optional
            ``"amazon"`` (default), ``"shopify"``, ``"transparent"``, a user preset (see
            :func:`~segmentation.product.presets.resolve_preset`).
        mask : numpy.ndarray, optional
            A mask to use instead of running the model (e.g. an edited one), uint8 ``[H, W]``.
        user_presets : dict, optional
            Named presets (:func:`~segmentation.product.presets.load_presets`).
        max_pixels : int, optional
            Pixel limit of the image and of the canvas.
        **overrides
            Settings that differ from the preset (``canvas="1600x1600"``, ``shadow=True``...).

        Raises
        ------
        ProductSpecError, ImageError
            Before any work: an unknown preset or setting, a background image that does
            not decode.
        NoSubjectError
            The mask holds no subject.

        """
        spec = resolve_preset(preset, user=user_presets, **overrides)
        background = load_background(spec, max_pixels)
        if mask is None:
            loaded, mask = self._load_and_run(image, max_pixels, full_pixels=True)
            assert loaded is not None
        else:
            loaded = _with_mask(image, mask, max_pixels)
        return make_product_photo(loaded, mask, spec, background=background, max_pixels=max_pixels)

    def imap(
        self,
        images: Iterable[ImageSource],
        *,
        progress: bool | None = True,
        on_error: OnError = "report",
        keep_images: bool = False,
    ) -> Iterator[Result]:
        """Like :meth:`map`, one result at a time."""
        return iter_results(
            self, images, progress=progress, on_error=on_error, keep_images=keep_images
        )

    def map(
        self,
        images: Iterable[ImageSource],
        *,
        progress: bool | None = True,
        on_error: OnError = "report",
    ) -> list[Result]:
        """Masks of many images, with a progress bar, going on past bad ones.

        Returns one :class:`~segmentation.image_batch.Result` per image, in order; a
        bad file gives a result with ``error`` set (``on_error="raise"``
        raises instead).
        """
        return list(self.imap(images, progress=progress, on_error=on_error))


_CACHE: dict[tuple[str, str, int | None, int, tuple[int, int] | None], Segmenter] = {}
_CACHE_LOCK = threading.Lock()


def get_segmenter(
    model: str = DEFAULT_MODEL,
    precision: str | None = None,
    threads: int | None = None,
    *,
    registry: Registry | None = None,
    progress: bool | Progress = False,
    resolution: int | tuple[int, int] | None = None,
) -> Segmenter:
    """Return the process-wide :class:`Segmenter` for these settings, created once.

    The one session cache of the process: the CLI, the demo and the widgets'
    kernel twin all get their sessions here, so one model is loaded once.
    Entries are keyed by the spec as ``registry`` (default: the process-wide
    one) resolves it now, so ``precision=None`` and the default share a session
    and a re-registered file gets a new one. ``resolution`` (default: the
    spec's) is the returned segmenter's; one session can also run others
    through :meth:`Segmenter.run_pixels`.
    """
    reg = registry or _default_registry()
    spec = reg.get(model, precision)
    size = None if resolution is None else check_resolution(resolution)
    if size == tuple(spec.input_size):
        size = None
    key = (spec.key, repr(spec.sources), threads, id(reg), size)
    with _CACHE_LOCK:
        seg = _CACHE.get(key)
        if seg is None:
            seg = Segmenter(
                spec.name,
                spec.precision,
                size,
                threads=threads,
                registry=reg,
                progress=progress,
            )
            _CACHE[key] = seg
        return seg


def release_segmenters(registry: Registry) -> int:
    """Drop the cached sessions of models looked up in ``registry``; return how many.

    For processes that run one model after another (a benchmark worker): the
    memory of a session is freed once nothing else holds it.
    """
    with _CACHE_LOCK:
        gone = [key for key in _CACHE if key[3] == id(registry)]
        for key in gone:
            del _CACHE[key]
    return len(gone)


def remove(
    image: ImageSource | LoadedImage,
    background: Background = None,
    *,
    model: str = DEFAULT_MODEL,
    precision: str | None = None,
    max_pixels: int | None = None,
    preset: PresetArg | None = None,
    decontaminate: bool | None = None,
) -> Image.Image:
    """Remove the background of one image in one call: ``segmentation.remove("photo.jpg")``.

    Parameters
    ----------
    image : path, bytes, PIL.Image.Image, numpy.ndarray or LoadedImage
        Anything :func:`~segmentation.images.load_image` reads.
    background : colour, image or None
        None (default) leaves it transparent; see :func:`segmentation.cutouts.compose`.
    model, precision : str
        Catalog model and precision (default: IS-Net, static int8).
    max_pixels : int, optional
        Pixel limit of the image (default: 200 MP or ``$PIXEL_LIBERATION_MAX_PIXELS``).
    preset : str, path, dict or ProductSpec, optional
        Make a product photo instead (``"amazon"``, ``"shopify"``, ``"transparent"``...):
        see :func:`product_photo`; ``background`` then replaces the preset's colour.
    decontaminate : bool, optional
        Give soft edges the subject's own colour (default: when a background is given).

    Returns
    -------
    PIL.Image.Image
        RGBA at the image's size (EXIF orientation applied); with a preset, the framed
        photo (RGB when opaque).

    Notes
    -----
    The session is created on the first call (the model is fetched if needed)
    and reused by later calls with the same model, through :func:`get_segmenter`.

    """
    if preset is not None:
        extra: dict[str, Any] = {} if background is None else {"background": background}
        if decontaminate is not None:
            extra["decontaminate"] = decontaminate
        return product_photo(
            image, preset, model=model, precision=precision, max_pixels=max_pixels, **extra
        ).image
    return get_segmenter(model, precision).cutout(
        image, background, max_pixels=max_pixels, decontaminate=decontaminate
    )


def product_photo(
    image: ImageSource | LoadedImage,
    preset: PresetArg | None = None,
    *,
    mask: np.ndarray | None = None,
    model: str = DEFAULT_MODEL,
    precision: str | None = None,
    max_pixels: int | None = None,
    user_presets: dict[str, ProductSpec] | None = None,
    **overrides: Any,
) -> ProductPhoto:
    """Make a marketplace-ready product photo in one call.

    >>> product_photo("mug.jpg", "amazon").save("mug-amazon.jpg")
    >>> product_photo("mug.jpg", "shopify", shadow=True, canvas="1600x1600").save("mug.jpg")

    The model (default IS-Net) finds the subject, unless ``mask`` is given; see
    :meth:`Segmenter.product` for the parameters and what is raised, and
    ``docs/product-photos.md`` for the presets.
    """
    spec = resolve_preset(preset, user=user_presets, **overrides)  # bad settings: no model load
    if mask is not None:  # no model needed
        loaded = _with_mask(image, mask, max_pixels)
        return make_product_photo(loaded, mask, spec, max_pixels=max_pixels)
    return get_segmenter(model, precision).product(image, spec, max_pixels=max_pixels)
