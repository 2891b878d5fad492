"""The many-image job: cut out files, folders or lists of images into a folder, resumably.

>>> from segmentation import remove_many
>>> rows = remove_many(["photos/"], "cutouts/")                   # every local core
>>> rows = remove_many(["photos/"], "cutouts/", cluster="local", workers=4)  # Dask
>>> [r for r in rows if r.status == "failed"]                     # what went wrong, and why

:func:`remove_many` is what ``python -m segmentation remove`` runs. Before any
work it expands the inputs, plans every output name, refuses an output that
would replace an input, resolves the model and makes it ready (fetched,
wrapped, named by sha256). Then it locks the output folder and the manifest
(:mod:`segmentation.jobs.lock`: a second job on them stops at once, naming the
first), deletes what a stopped run wrote without recording
(:mod:`segmentation.jobs.claims`), plans again under the lock, and sends
batches of images to an engine (:mod:`segmentation.jobs.engines`): this
process, a local process pool (its processes end with this one), or a Dask
cluster. Each finished batch is appended to the manifest
(:mod:`segmentation.jobs.manifest`), so Ctrl+C, a killed client or a dead
worker loses at most the batches in flight; running the same job again skips
what is done. An image's failure (unreadable, too large, a failed write, a row
that cannot be recorded) is its row; the job goes on.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from segmentation.conversion.wrapper import check_resolution
from segmentation.cutouts import Color, parse_color
from segmentation.errors import SegmentationError
from segmentation.files import sha256_file
from segmentation.jobs.claims import clear_claims, remove_unrecorded, write_claims
from segmentation.jobs.engines import Engine, SerialEngine, check_cluster, open_engine
from segmentation.jobs.inputs import PathArg, as_paths, expand_inputs
from segmentation.jobs.lock import JobLock, lock_paths
from segmentation.jobs.manifest import MANIFEST_NAME, ManifestRow, ManifestWriter, read_manifest
from segmentation.jobs.model import prepare_model
from segmentation.jobs.names import display
from segmentation.jobs.outputs import plan_outputs, refuse_overwriting_inputs, remove_stale_temps
from segmentation.jobs.work import ImageTask, JobSettings, run_batch
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import DEFAULT_MODEL
from segmentation.product.photo import load_background
from segmentation.product.presets import PresetArg, resolve_preset
from segmentation.product.spec import ProductSpec

#: Largest automatic batch: big enough that 100,000 images are ~1,600 tasks, not 100,000.
MAX_AUTO_BATCH = 64


class JobInterrupted(KeyboardInterrupt):
    """Ctrl+C during a job; ``rows`` holds what finished (also in the manifest)."""

    def __init__(self, rows: list[ManifestRow], total: int) -> None:
        super().__init__(
            f"interrupted after {len(rows)} of {total} images; "
            "run the same job again to do the rest"
        )
        self.rows = rows
        self.total = total


def auto_batch_size(images: int, workers: int) -> int:
    """About four batches per worker, at most :data:`MAX_AUTO_BATCH` images each."""
    return max(1, min(MAX_AUTO_BATCH, math.ceil(images / (4 * max(1, workers)))))


def _positive(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _show(progress: bool | None) -> bool:
    return progress if progress is not None else sys.stderr.isatty()


def plan_job(
    inputs: Iterable[PathArg],
    out_dir: Path,
    mask_only: bool,
    manifest: Path,
    suffix: str | None = None,
) -> tuple[list[ImageTask], dict[tuple[str, tuple[str, ...]], ManifestRow]]:
    """Expand the inputs and plan the outputs; refuse any that would replace an input."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SegmentationError(f"output folder {display(str(out_dir))} exists and is not a folder")
    previous = read_manifest(manifest)
    ours = {p for row in previous.values() for p in row.outputs}
    given = list(inputs)
    sources = expand_inputs(given, exclude=ours)
    if not sources:
        raise SegmentationError(
            f"no images found in {', '.join(display(os.fspath(p)) for p in given)}"
        )
    plans = plan_outputs(sources, out_dir, mask_only, suffix)
    refuse_overwriting_inputs(sources, [p for plan in plans for p in plan])
    refuse_overwriting_inputs(sources, [str(manifest)], what="manifest")
    if os.path.abspath(manifest) in {p for plan in plans for p in plan}:
        raise SegmentationError(f"manifest {manifest} is also an output; choose another path")
    tasks = [
        ImageTask(src, plan, previous.get((src, plan)), any(os.path.isfile(p) for p in plan))
        for src, plan in zip(sources, plans, strict=True)
    ]
    return tasks, previous


def remove_many(
    inputs: Iterable[PathArg | bytes] | PathArg | bytes,
    out_dir: PathArg | bytes,
    *,
    cluster: object = None,
    workers: int | None = None,
    model: str = DEFAULT_MODEL,
    precision: str | None = None,
    registry: Registry | None = None,
    threads: int | None = None,
    resolution: int | tuple[int, int] | None = None,
    mask_only: bool = False,
    background: Color | None = None,
    preset: PresetArg | None = None,
    presets: Mapping[str, ProductSpec] | None = None,
    decontaminate: bool | None = None,
    overwrite: bool = False,
    max_pixels: int | None = None,
    manifest: PathArg | bytes | None = None,
    batch_size: int | None = None,
    ship_model: bool | None = None,
    progress: bool | None = None,
    on_result: Callable[[ManifestRow], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[ManifestRow]:
    """Cut out many images into ``out_dir``; return one manifest row per image, in input order.

    Parameters
    ----------
    inputs : path-like or iterable of path-like
        Image files, folders (their images, not recursive) and list files
        (``.txt``/``.lst``, one path per line, relative ones from the list's
        folder); see :mod:`segmentation.jobs.inputs`. ``bytes`` paths are
        taken too: any name the OS allows, UTF-8 or not.
    out_dir : path-like
        Output folder (created). Outputs are ``<stem>.png`` cutouts (RGBA), or
        ``<stem>.mask.png`` with ``mask_only``; a repeated stem gets ``-1``, ``-2``...
    cluster : None, "local", str or distributed.Client
        Where to run (see :func:`segmentation.jobs.engines.open_engine`): None is
        this machine without Dask (or ``$DASK_SCHEDULER_ADDRESS`` if set),
        ``"local"`` a new ``distributed.LocalCluster``, ``"tcp://HOST:PORT"`` a
        running scheduler.
    workers : int, optional
        Processes of the local pool or LocalCluster (default: every core).
    model, precision, registry
        The model, looked up in ``registry`` (default: the built-in catalog; a
        registry holding your own file works too, the file is shipped or found
        by sha256 on each worker).
    threads : int, optional
        onnxruntime threads per session (default: 1 per worker process, or
        onnxruntime's own choice when the job runs in this process).
    resolution : int or tuple of int, optional
        Model input side(s), multiples of 32 up to 2048 (default: the model's own); a
        lower one is faster and coarser. Part of the settings a re-run compares.
    mask_only : bool
        Write masks instead of cutouts.
    background : colour, optional
        Fill behind the cutout (``"white"``, ``"#00ff00"``, an RGB(A) tuple); with a
        ``preset``, it replaces the preset's colour.
    preset : str, path, dict or ProductSpec, optional
        Write product photos (``"amazon"``, ``"shopify"``, ``"transparent"``, a user
        preset; see :func:`~segmentation.product.presets.resolve_preset`) as
        ``<stem>.jpg``/``.png``/``.webp``. The manifest records the preset, and its
        resolved values are part of the settings a re-run compares. An image whose mask
        holds no subject fails ("no subject found").
    presets : mapping, optional
        Named user presets (:func:`~segmentation.product.presets.load_presets`).
    decontaminate : bool, optional
        Give a cut-out's soft edges the subject's own colour (default: when
        ``background`` is given; a preset says it itself).
    overwrite : bool
        Redo every image and replace existing outputs. Without it, an image
        whose manifest row still holds (same source sha256 and settings, outputs
        intact) is skipped, and an existing file that no row vouches for is
        kept (status ``kept`` on every run until it is removed or overwritten).
    max_pixels : int, optional
        Refuse images with more pixels (passed to :func:`~segmentation.images.load_image`).
    manifest : path-like, optional
        JSON Lines manifest (default ``<out_dir>/manifest.jsonl``).
    batch_size : int, optional
        Images per task (default: about four tasks per worker, at most 64 images).
    ship_model : bool, optional
        Send the model file to Dask workers with the plugin (default: for a
        cluster not started here); workers always look in their cache first.
    progress : bool, optional
        tqdm bar on stderr; None shows it when stderr is a terminal.
    on_result : callable, optional
        Called with each row as it arrives (completion order).
    log : callable, optional
        Receives lines for people (engine, dashboard link); default: stderr
        when the progress bar is shown.

    Returns
    -------
    list of ManifestRow
        Status ``done``, ``skipped``, ``kept`` or ``failed`` (with ``error``) per image.

    Raises
    ------
    TypeError
        An input, ``out_dir`` or ``manifest`` is not a path.
    SegmentationError
        Before any work: no inputs or no images, an output or the manifest would
        replace an input, an unknown or unavailable model, an unreachable
        cluster, another job holding the output folder or the manifest
        (:class:`~segmentation.jobs.lock.JobLockedError`, naming its pid).
        During the job: the model cannot be opened on a worker, workers keep
        dying, the manifest cannot be written.
    JobInterrupted
        Ctrl+C; the rows finished so far are in the manifest and on the exception.

    """
    items = as_paths(inputs)
    fill = parse_color(background) if background is not None else None
    product: ProductSpec | None = None
    background_sha = None
    if preset is not None:
        if mask_only:
            raise SegmentationError("a product preset and mask_only exclude each other")
        extra = {} if fill is None else {"background": list(fill)}
        product = resolve_preset(preset, user=presets, **extra)
        load_background(product, max_pixels)  # a background that does not decode: stop now
        if product.background_image is not None:
            background_sha = sha256_file(Path(product.background_image).expanduser())
        fill = None
    for name, value in (("threads", threads), ("workers", workers), ("batch_size", batch_size)):
        _positive(name, value)
    _positive("max_pixels", max_pixels)
    check_cluster(cluster)
    out = Path(os.path.abspath(Path(os.fsdecode(_path_arg("out_dir", out_dir))).expanduser()))
    manifest_path = (
        Path(os.path.abspath(Path(os.fsdecode(_path_arg("manifest", manifest))).expanduser()))
        if manifest
        else out / MANIFEST_NAME
    )
    suffix = product.suffix if product is not None else None
    plan_job(items, out, mask_only, manifest_path, suffix)  # every refusal before any writing
    reg = registry or default_registry()
    ref = prepare_model(reg.get(model, precision), reg, progress=_show(progress))
    say = log or (functools.partial(tqdm.write, file=sys.stderr) if _show(progress) else None)
    size_hw = None if resolution is None else check_resolution(resolution)
    created = _make_folders(out, manifest_path.parent)
    try:
        with JobLock(lock_paths(out, manifest_path), log=say):
            removed = remove_unrecorded(manifest_path)
            if removed and say is not None:
                say(
                    f"removed {len(removed)} output(s) that a stopped run wrote without "
                    "recording them; their images are done again"
                )
            tasks, previous = plan_job(items, out, mask_only, manifest_path, suffix)  # locked
            engine = open_engine(cluster, workers, batches=len(tasks))
            try:
                if threads is None and not isinstance(engine, SerialEngine):
                    threads = 1  # one single-threaded session per worker process uses every core
                settings = JobSettings(
                    ref, threads, size_hw, mask_only, fill, overwrite, max_pixels,
                    product=product, background_sha256=background_sha,
                    decontaminate=decontaminate if decontaminate is not None else fill is not None,
                )  # fmt: skip
                writing = _Writing(manifest_path, previous, progress, on_result, say)
                rows = _dispatch(engine, settings, tasks, batch_size, ship_model, writing)
            finally:
                engine.close()
                remove_stale_temps(p for task in tasks for p in task.outputs)
    except BaseException:
        for folder in reversed(created):  # deepest first
            _remove_if_empty(folder)
        raise
    return [rows[(t.source, t.outputs)] for t in tasks]


@dataclass(frozen=True)
class _Writing:
    """Where a job's rows go and who hears of them."""

    manifest: Path
    previous: dict[tuple[str, tuple[str, ...]], ManifestRow]
    progress: bool | None
    on_result: Callable[[ManifestRow], None] | None
    say: Callable[[str], None] | None


def _dispatch(
    engine: Engine,
    settings: JobSettings,
    tasks: list[ImageTask],
    batch_size: int | None,
    ship_model: bool | None,
    writing: _Writing,
) -> dict[tuple[str, tuple[str, ...]], ManifestRow]:
    """Batch the tasks, run them on ``engine`` and record every row; return the rows by key.

    The outputs the run may create are claimed first (:mod:`segmentation.jobs.claims`);
    after Ctrl+C those it wrote without a row are removed, after a full run the claims go.
    """
    size = batch_size or (
        1 if isinstance(engine, SerialEngine) else auto_batch_size(len(tasks), engine.workers)
    )
    batches = [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]
    say = writing.say
    if say is not None:
        say(f"{len(tasks)} images in {len(batches)} batches on {engine.description}")
        if engine.dashboard_link:
            say(f"dashboard: {engine.dashboard_link}")
    engine.prepare(settings.ref, settings.threads, ship_model)
    with ManifestWriter(writing.manifest, writing.previous) as writer:
        write_claims(writing.manifest, (p for t in tasks if not t.existed for p in t.outputs))
        try:
            rows = _run(engine, settings, batches, writer, writing.progress, writing.on_result)
        except JobInterrupted:  # the pool is ended: drop what it wrote unrecorded
            remove_unrecorded(writing.manifest)
            raise
    clear_claims(writing.manifest)  # every image has its row
    return rows


def _path_arg(name: str, value: object) -> PathArg | bytes:
    if not isinstance(value, str | bytes | os.PathLike):
        raise TypeError(f"{name} must be a path (str, bytes or os.PathLike), got {value!r}")
    return value


def _make_folders(*folders: Path) -> list[Path]:
    """Create the folders (with parents); return those that did not exist, deepest last."""
    created: list[Path] = []
    for folder in folders:
        if folder.exists():
            continue
        missing = [folder, *(p for p in folder.parents if not p.exists())]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SegmentationError(
                f"cannot create {display(str(folder))} ({exc.strerror or exc})"
            ) from None
        created.extend(reversed(missing))
    return created


def _remove_if_empty(folder: Path) -> None:
    """Undo a folder this job created, if the job left it empty."""
    try:
        folder.rmdir()
    except OSError:
        pass


def _run(
    engine: Engine,
    settings: JobSettings,
    batches: Sequence[list[ImageTask]],
    writer: ManifestWriter,
    progress: bool | None,
    on_result: Callable[[ManifestRow], None] | None,
) -> dict[tuple[str, tuple[str, ...]], ManifestRow]:
    """Run the batches, appending each to the manifest as it arrives; rows by key."""
    total = sum(len(b) for b in batches)
    done: dict[tuple[str, tuple[str, ...]], ManifestRow] = {}
    failed = 0
    bar = tqdm(
        total=total, desc="remove", unit="img", disable=None if progress is None else not progress
    )
    try:
        for batch_rows in engine.imap_unordered(functools.partial(run_batch, settings), batches):
            rows = writer.append(batch_rows)  # a row that cannot be recorded is a failure
            for row in rows:
                done[row.key] = row
                failed += not row.ok
                if on_result is not None:
                    on_result(row)
            bar.update(len(rows))
            if failed:
                bar.set_postfix(failed=failed)
    except KeyboardInterrupt:
        engine.abort()
        raise JobInterrupted(list(done.values()), total) from None
    except BrokenProcessPool:
        raise SegmentationError(
            "a worker process died (killed, or out of memory?); finished images are in "
            f"{writer.path}: run the job again to do the rest"
        ) from None
    finally:
        bar.close()
    return done
