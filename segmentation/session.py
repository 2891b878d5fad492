"""Run a wrapped model in the kernel: one onnxruntime session, reused for every image.

>>> seg = Segmenter()                       # isnet-general-use, fp16
>>> mask = seg.mask("photo.jpg")            # uint8 [H, W] at the photo's size
>>> seg.cutout("photo.jpg").save("cut.png")  # RGBA, background transparent

The session runs the model of :func:`segmentation.store.ensure_wrapped`, whose
graph does the resizing and normalisation, so :meth:`Segmenter.run_pixels` on
the same RGBA bytes gives the same mask as the browser's onnxruntime-web.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from segmentation.cutouts import Background, compose
from segmentation.errors import ImageError, ModelIntegrityError, SegmentationError
from segmentation.image_batch import OnError, Result, iter_results
from segmentation.images import ImageSource, LoadedImage, load_image
from segmentation.models.progress import Progress
from segmentation.models.registry import Registry
from segmentation.models.registry import default_registry as _default_registry
from segmentation.models.spec import DEFAULT_MODEL, ModelSpec
from segmentation.store import ensure_wrapped
from segmentation.variants.wrapper import MASK, PIXELS


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


class Segmenter:
    """A background-removal model ready to run, in this process.

    Parameters
    ----------
    model : str
        Catalog name (see ``python -m segmentation models``).
    precision : str
        ``"int8-static"``, ``"fp16"``, ``"fp32"`` or ``"int8"``; None (default):
        ``"int8-static"`` where the model has it, else its only precision.
    resolution : tuple of int, optional
        Model input ``(height, width)``; only the spec's own size is
        supported for now (None means that size).
    threads : int, optional
        onnxruntime intra-op threads (None: onnxruntime's default).
    providers : sequence of str, optional
        onnxruntime execution providers (default ``["CPUExecutionProvider"]``).
    registry : Registry, optional
        Where ``model`` is looked up (default: the process-wide registry).
    progress : bool or callable
        Show tqdm bars while the model file is obtained or wrapped (True), or
        receive ``progress(done, total)`` byte counts (a callable).

    Attributes
    ----------
    spec : ModelSpec
    model_path : pathlib.Path
        The wrapped ONNX file the session runs.
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
    ) -> None:
        reg = registry or _default_registry()
        self.spec: ModelSpec = reg.get(model, precision)
        if resolution is not None and tuple(resolution) != tuple(self.spec.input_size):
            raise NotImplementedError(
                f"{self.spec.key} runs at {self.spec.input_size[0]}x{self.spec.input_size[1]}; "
                f"other resolutions ({resolution[0]}x{resolution[1]} asked) are not supported yet"
            )
        self.threads = threads
        options = session_options(threads)
        self.model_path: Path = ensure_wrapped(self.spec, registry=reg, progress=progress)
        try:
            self.session = ort.InferenceSession(
                str(self.model_path), options, providers=list(providers or ["CPUExecutionProvider"])
            )
        except Exception as exc:  # onnxruntime raises bare Exception subclasses
            raise ModelIntegrityError(
                f"onnxruntime cannot load {self.model_path} ({exc}); delete it to rebuild it"
            ) from exc
        self.last_timings: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"Segmenter({self.spec.key!r}, threads={self.threads})"

    def _infer(self, rgba: np.ndarray) -> np.ndarray:
        try:
            (mask,) = self.session.run([MASK], {PIXELS: rgba})
        except Exception as exc:  # onnxruntime raises bare Exception subclasses
            raise SegmentationError(
                f"{self.spec.key}: inference failed on a {rgba.shape[1]}x{rgba.shape[0]} "
                f"image ({exc})"
            ) from exc
        return np.asarray(mask, dtype=np.uint8)

    def run_pixels(self, rgba: np.ndarray) -> np.ndarray:
        """Return the mask of exactly these pixels (no decoding, no EXIF): uint8 ``[H, W]``."""
        pixels = check_pixels(rgba)
        start = time.perf_counter()
        mask = self._infer(pixels)
        spent = time.perf_counter() - start
        self.last_timings = {"decode": 0.0, "inference": spent, "total": spent}
        return mask

    def _load_and_run(self, image: ImageSource | LoadedImage) -> tuple[LoadedImage, np.ndarray]:
        start = time.perf_counter()
        loaded = image if isinstance(image, LoadedImage) else load_image(image)
        decoded = time.perf_counter()
        mask = self._infer(loaded.pixels)
        done = time.perf_counter()
        self.last_timings = {
            "decode": decoded - start,
            "inference": done - decoded,
            "total": done - start,
        }
        return loaded, mask

    def mask(self, image: ImageSource | LoadedImage) -> np.ndarray:
        """Return the foreground mask, uint8 ``[H, W]`` (255 = subject), at the upright size.

        ``image`` is anything :func:`~segmentation.images.load_image` reads.
        """
        return self._load_and_run(image)[1]

    def cutout(
        self, image: ImageSource | LoadedImage, background: Background = None
    ) -> Image.Image:
        """Return the subject on a transparent background, or over ``background``.

        See :func:`segmentation.cutouts.compose` for the background rules.
        """
        loaded, mask = self._load_and_run(image)
        return compose(loaded, mask, background)

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


_CACHE: dict[tuple[str, str, int | None, int], Segmenter] = {}
_CACHE_LOCK = threading.Lock()


def get_segmenter(
    model: str = DEFAULT_MODEL,
    precision: str | None = None,
    threads: int | None = None,
    *,
    registry: Registry | None = None,
    progress: bool | Progress = False,
) -> Segmenter:
    """Return the process-wide :class:`Segmenter` for these settings, created once.

    The one session cache of the process: the CLI, the demo and the widgets'
    kernel twin all get their sessions here, so one model is loaded once.
    Entries are keyed by the spec as ``registry`` (default: the process-wide
    one) resolves it now, so ``precision=None`` and the default share a session
    and a re-registered file gets a new one.
    """
    reg = registry or _default_registry()
    spec = reg.get(model, precision)
    key = (spec.key, repr(spec.sources), threads, id(reg))
    with _CACHE_LOCK:
        seg = _CACHE.get(key)
        if seg is None:
            seg = Segmenter(
                spec.name, spec.precision, threads=threads, registry=reg, progress=progress
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

    Returns
    -------
    PIL.Image.Image
        RGBA at the image's size (EXIF orientation applied).

    Notes
    -----
    The session is created on the first call (the model is fetched if needed)
    and reused by later calls with the same model, through :func:`get_segmenter`.

    """
    return get_segmenter(model, precision).cutout(image, background)
