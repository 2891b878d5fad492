"""The quick-start job: cut out matplotlib's sample photos with the default model."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from segmentation.errors import SegmentationError
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION
from segmentation.session import get_segmenter

#: Raster files of matplotlib's sample data that are pictures (others are data).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: Shown first: the one real photograph.
PREFERRED = "grace_hopper.jpg"


def sample_photos() -> list[Path]:
    """Find the pictures in matplotlib's ``mpl-data/sample_data``, ``grace_hopper.jpg`` first.

    Raises
    ------
    SegmentationError
        matplotlib is not installed, or its sample data holds no pictures.

    """
    try:
        import matplotlib
        from matplotlib import cbook
    except ImportError:
        raise SegmentationError(
            "the demo uses matplotlib's sample photos: pip install matplotlib"
        ) from None
    folders: list[Path] = []
    try:
        folders.append(Path(str(cbook.get_sample_data(PREFERRED, asfileobj=False))).parent)
    except (OSError, ValueError):
        pass
    folders.append(Path(matplotlib.get_data_path()) / "sample_data")
    for folder in folders:
        if folder.is_dir():
            found = [
                p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            ]
            if found:
                return sorted(found, key=lambda p: (p.name != PREFERRED, p.name))
    raise SegmentationError(
        f"no sample pictures found in matplotlib's data ({', '.join(map(str, folders))})"
    )


@dataclass
class DemoReport:
    """What the demo wrote: ``(source, cutout, mask, seconds)`` per image, and the total."""

    rows: list[tuple[Path, Path, Path, float]] = field(default_factory=list)
    total_seconds: float = 0.0


def run_demo(
    outdir: str | Path = "cutouts",
    *,
    precision: str = DEFAULT_PRECISION,
    threads: int | None = None,
    echo: Callable[[str], None] = print,
    progress: bool = True,
) -> DemoReport:
    """Cut out every sample photo into ``outdir`` (``<stem>.png`` and ``<stem>.mask.png``).

    Parameters
    ----------
    outdir : str or Path
        Created if missing.
    precision : str
        Variant of the default model to use.
    threads : int, optional
        onnxruntime threads.
    echo : callable
        Receives one line per image (path and seconds) and a total line.
    progress : bool
        Show progress bars while the model is fetched.

    Returns
    -------
    DemoReport

    """
    photos = sample_photos()
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    seg = get_segmenter(DEFAULT_MODEL, precision, threads, progress=progress)
    report = DemoReport()
    for src in photos:
        t0 = time.perf_counter()
        cut = seg.cutout(src)
        mask = cut.getchannel("A")
        cut_path, mask_path = out / f"{src.stem}.png", out / f"{src.stem}.mask.png"
        cut.save(cut_path)
        mask.save(mask_path)
        seconds = time.perf_counter() - t0
        report.rows.append((src, cut_path, mask_path, seconds))
        echo(f"{cut_path}  ({src.name}, {cut.width}x{cut.height}, {seconds:.2f} s)")
    report.total_seconds = time.perf_counter() - start
    echo(
        f"{len(photos)} images in {report.total_seconds:.2f} s "
        f"(model {seg.spec.key}, cutouts and masks in {out})"
    )
    return report
