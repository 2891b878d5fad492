"""What a worker does with one batch of images: hash, skip or cut out, write, report.

:func:`run_batch` is the task every engine runs (in this process, in a pool
process or on a Dask worker). For each image it hashes the source, decides
from the earlier run's manifest row whether the work is already done, else
decodes it (:func:`~segmentation.images.load_image` with the job's
``max_pixels``), runs the model (opened once per process by
:func:`~segmentation.jobs.model.open_model`, only when an image needs it) and
writes the output atomically. Every problem with an image (unreadable, too
large, a failed write) becomes that image's ``failed`` row; a model that cannot
be opened raises, which stops the job.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from segmentation.cutouts import compose
from segmentation.errors import ImageError, SegmentationError
from segmentation.files import sha256_file
from segmentation.images import LoadedImage, check_image_file, load_image
from segmentation.jobs.engines import current_worker, exit_if_orphaned
from segmentation.jobs.manifest import ManifestRow, Status
from segmentation.jobs.model import ModelRef, open_model
from segmentation.jobs.outputs import existing_outputs, outputs_intact, write_bytes, write_png
from segmentation.product.compose import decontaminated
from segmentation.product.photo import load_background, make_product_photo
from segmentation.product.spec import ProductSpec
from segmentation.session import Segmenter

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class JobSettings:
    """What every image of a job shares (small: it travels with each batch).

    Attributes
    ----------
    ref : ModelRef
        The model, by sha256.
    threads : int or None
        onnxruntime intra-op threads per session.
    resolution : tuple of int or None
        Model input ``(height, width)`` (None: the model's own size).
    mask_only : bool
        Write the mask (``L`` PNG) instead of the cutout.
    background : tuple of int or None
        RGBA fill behind the cutout; None keeps it transparent.
    overwrite : bool
        Replace outputs even when they are up to date or not the job's own.
    max_pixels : int or None
        Largest image decoded (None: :func:`~segmentation.images.load_image`'s default).
    product : ProductSpec or None
        Write a product photo made with these settings instead of a cut-out.
    background_sha256 : str or None
        sha256 of the product's background image file (part of the digest).
    decontaminate : bool
        Give a cut-out's soft edges the subject's own colour (with ``background``).

    """

    ref: ModelRef
    threads: int | None = None
    resolution: tuple[int, int] | None = None
    mask_only: bool = False
    background: RGBA | None = None
    overwrite: bool = False
    max_pixels: int | None = None
    product: ProductSpec | None = None
    background_sha256: str | None = None
    decontaminate: bool = False

    @property
    def digest(self) -> str:
        """Fingerprint of what shapes the output bytes: model file, resolution, mask-only, bg.

        A product preset adds its resolved values (and its background file's sha256), so
        changing any of them redoes the image.
        """
        what: list[object] = [self.ref.wrapped_sha256, self.mask_only, self.background]
        if self.resolution is not None:  # the model's own size keeps older manifests valid
            what.append(list(self.resolution))
        if self.product is not None:
            what.append({"product": self.product.digest, "background": self.background_sha256})
        elif self.decontaminate and self.background is not None:
            what.append("decontaminate")
        return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ImageTask:
    """One image of a batch: its source, its planned outputs, its row from an earlier run.

    ``existed`` says whether an output was on disk when the job was planned; one
    that appears later comes from this job (a worker that died after writing
    it), so a retried batch may replace it.
    """

    source: str
    outputs: tuple[str, ...]
    previous: ManifestRow | None = None
    existed: bool = False


def source_sha256(source: str, max_pixels: int | None = None) -> str:
    """sha256 of an image file that :func:`load_image` would read; :class:`ImageError` otherwise.

    The file is checked by :func:`~segmentation.images.check_image_file` first (no FIFO,
    device or directory is opened, no file larger than the pixel limit allows is read).
    """
    check_image_file(Path(source), max_pixels=max_pixels)
    try:
        return sha256_file(Path(source))
    except OSError as exc:
        raise ImageError(f"{source}: cannot be read ({exc.strerror or exc})") from None


_BACKGROUNDS: dict[str, np.ndarray | None] = {}  # decoded once per worker process


def _render(settings: JobSettings, loaded: LoadedImage, mask: np.ndarray) -> Image.Image | bytes:
    """Make the output of one image: a mask, a cut-out (PIL image) or a product photo (bytes)."""
    if settings.mask_only:
        return Image.fromarray(mask, "L")
    spec = settings.product
    if spec is not None:
        key = f"{spec.background_image}:{settings.background_sha256}"
        if key not in _BACKGROUNDS:
            _BACKGROUNDS[key] = load_background(spec, settings.max_pixels)
        photo = make_product_photo(
            loaded, mask, spec, background=_BACKGROUNDS[key], max_pixels=settings.max_pixels
        )
        return photo.data
    if settings.decontaminate and settings.background is not None:
        loaded = replace(loaded, pixels=decontaminated(loaded.pixels, mask))
    return compose(loaded, mask, settings.background)


def _row(
    settings: JobSettings,
    task: ImageTask,
    status: Status,
    start: float,
    sha256: str | None,
    *,
    error: str | None = None,
    output_sha256: tuple[str, ...] = (),
) -> ManifestRow:
    return ManifestRow(
        source=task.source,
        sha256=sha256,
        outputs=task.outputs,
        status=status,
        error=error,
        seconds=round(time.perf_counter() - start, 4),
        worker=current_worker(),
        model=settings.ref.spec.key,
        settings=settings.digest,
        output_sha256=output_sha256,
        preset=settings.product.name if settings.product is not None else "",
    )


Verdict = Literal["skip", "keep", "blocked", "run"]
#: Statuses of an earlier row that vouch for its outputs: the job wrote them. A ``kept``
#: file is someone else's; it stays ``kept`` on every run, never ``skipped``.
VOUCHED = ("done", "skipped")


def _verdict(settings: JobSettings, task: ImageTask, sha: str) -> Verdict:
    """Whether the work is done already (skip), not ours to replace (keep, blocked), or to do."""
    if settings.overwrite:
        return "run"
    prev = task.previous
    if prev is not None and prev.status in VOUCHED:
        same = prev.sha256 == sha and prev.settings == settings.digest
        if same and outputs_intact(task.outputs, prev.output_sha256):
            return "skip"
        return "run"  # the job's own earlier output, of another source or settings: redo it
    if not task.existed:
        return "run"  # nothing was there when the job began: whatever is there now is ours
    present = existing_outputs(task.outputs)
    if not present:
        return "run"
    return "keep" if len(present) == len(task.outputs) else "blocked"


def process_image(
    settings: JobSettings, task: ImageTask, session: Callable[[], Segmenter]
) -> ManifestRow:
    """Do one image; every image problem is a ``failed`` row, a model problem raises."""
    start = time.perf_counter()
    try:
        sha = source_sha256(task.source, settings.max_pixels)
    except (SegmentationError, OSError, ValueError) as exc:
        return _row(settings, task, "failed", start, None, error=str(exc))
    verdict = _verdict(settings, task, sha)
    if verdict == "skip" and task.previous is not None:
        return _row(
            settings, task, "skipped", start, sha, output_sha256=task.previous.output_sha256
        )
    if verdict == "keep":
        kept = tuple(sha256_file(Path(p)) for p in task.outputs)
        return _row(settings, task, "kept", start, sha, output_sha256=kept)
    if verdict == "blocked":
        present = existing_outputs(task.outputs)[0]
        error = f"{present} exists; pass overwrite=True (--overwrite) to replace it"
        return _row(settings, task, "failed", start, sha, error=error)
    try:
        loaded = load_image(task.source, max_pixels=settings.max_pixels)
    except (SegmentationError, OSError, ValueError) as exc:
        return _row(settings, task, "failed", start, sha, error=str(exc))
    opening = time.perf_counter()
    seg = session()  # raises if the model cannot be opened: the job stops
    start += time.perf_counter() - opening  # a row's seconds leave out opening the model
    try:
        image = _render(settings, loaded, seg.run_pixels(loaded.pixels, settings.resolution))
        written = tuple(
            write_bytes(image, dest) if isinstance(image, bytes) else write_png(image, dest)
            for dest in task.outputs
        )
    except (SegmentationError, OSError, ValueError) as exc:
        return _row(settings, task, "failed", start, sha, error=str(exc))
    return _row(settings, task, "done", start, sha, output_sha256=written)


def run_batch(settings: JobSettings, tasks: Sequence[ImageTask]) -> list[ManifestRow]:
    """Process a batch of images in order and return their rows (the task of every engine)."""
    opened: list[Segmenter] = []

    def session() -> Segmenter:
        if not opened:
            opened.append(open_model(settings.ref, settings.threads))
        return opened[0]

    rows = []
    for task in tasks:
        exit_if_orphaned()  # a pool process whose client died stops here (Linux: at once)
        rows.append(process_image(settings, task, session))
    return rows
