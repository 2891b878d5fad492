"""The photo and the table of the widget-versus-imgly benchmark (pure; no browser).

:func:`photo_at` makes the benchmark photo (a centre crop to the target aspect,
resized); :class:`Row` is one measured run of either side; :func:`format_table`
prints them with the ratios ours / imgly for the same kind of run (cold with
cold, warm with warm) against one imgly model config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

IMGLY, OURS = "imgly", "ours"


def photo_at(src: Path, dest: Path, size: tuple[int, int] = (480, 360)) -> Path:
    """Write ``src`` centre-cropped to the aspect of ``size`` and resized to it, as JPEG (q 95).

    Raises
    ------
    ValueError
        ``size`` is not two positive integers.

    """
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive (width, height), got {size}")
    with Image.open(src) as im:
        rgb = im.convert("RGB")
    w, h = rgb.size
    crop_w, crop_h = (w, round(w * height / width)) if w * height <= h * width else (
        round(h * width / height), h)  # fmt: skip
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    box = (left, top, left + crop_w, top + crop_h)
    dest.parent.mkdir(parents=True, exist_ok=True)
    rgb.crop(box).resize((width, height), Image.Resampling.LANCZOS).save(dest, quality=95)
    return dest


@dataclass(frozen=True)
class Row:
    """One run of one side.

    ``e2e_s``: ours, cell started -> the first full-resolution cut-out drawn (the kernel's, when
    the kernel answered first); imgly, ``removeBackground`` called -> Blob. ``cpu_s``: CPU
    seconds of Chromium's processes meanwhile. ``inference_s``: ours, the model run in the
    browser; imgly, its ``compute:inference`` span. ``kernel_s``: ours only, the same model in
    the kernel on the same pixels. ``first_s``: ours, the first cut-out of any kind drawn (a
    preview's). ``own_s``: ours, cell started -> the browser's own full mask in the kernel
    (equal to ``e2e_s`` when the browser answered first). ``kernel_cpu_s``: ours, CPU seconds
    of the notebook kernel meanwhile. ``parity``: ours, the browser's mask against the
    kernel's.
    """

    side: str
    variant: str
    run: str
    e2e_s: float
    cpu_s: float
    inference_s: float = math.nan
    kernel_s: float = math.nan
    first_s: float = math.nan
    own_s: float = math.nan
    kernel_cpu_s: float = math.nan
    parity: str = ""


def ratio(ours: float, theirs: float) -> float:
    """Return ``ours / theirs``, NaN when either is missing or ``theirs`` is not positive."""
    if math.isnan(ours) or math.isnan(theirs) or theirs <= 0:
        return math.nan
    return ours / theirs


def reference_of(rows: Sequence[Row], variant: str, run: str) -> Row | None:
    """Return imgly's row of ``variant`` for ``run`` (cold/warm), or None."""
    for r in rows:
        if r.side == IMGLY and r.variant == variant and r.run == run:
            return r
    return None


def _num(x: float, digits: int = 1) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    parts = (c.rjust(w) if i > 2 else c.ljust(w) for i, (c, w) in pairs)
    return "  ".join(parts).rstrip()


def format_table(rows: Sequence[Row], reference: str) -> str:
    """Return the table, with ratios ours / imgly ``reference`` (same run kind) per our row.

    Parameters
    ----------
    rows : sequence of Row
        imgly's and our runs, measured in the same process.
    reference : str
        imgly's model config the ratios are against (e.g. ``"medium"``, its default).

    """
    head = ("side", "variant", "run", "first s", "cut-out s", "browser's s", "CPU s",
            "kernel CPU s", "inf s", "kernel s", "parity", f"e2e/{reference}",
            f"CPU/{reference}")  # fmt: skip
    widths = (5, 22, 4, 7, 9, 11, 6, 12, 6, 8, 9, max(10, len(head[11])), max(10, len(head[12])))
    lines = [_line(head, widths)]
    for r in rows:
        ref = reference_of(rows, reference, r.run) if r.side == OURS else None
        cells = (
            r.side, r.variant, r.run, _num(r.first_s), _num(r.e2e_s), _num(r.own_s),
            _num(r.cpu_s), _num(r.kernel_cpu_s), _num(r.inference_s), _num(r.kernel_s),
            _parity(r.parity),
            _num(ratio(r.e2e_s, ref.e2e_s), 2) if ref else "",
            _num(ratio(r.cpu_s, ref.cpu_s), 2) if ref else "",
        )  # fmt: skip
        lines.append(_line(cells, widths))
    return "\n".join(lines)


def _parity(text: str) -> str:
    """Return a short form of the widget's ``parity`` for a table cell."""
    if not text:
        return "-"
    if text.startswith("equal within"):
        return "rounding"
    return text.split(":")[0]


def verdict(rows: Sequence[Row], ours: str, reference: str, run: str = "warm") -> str:
    """Return one sentence saying whether our ``ours`` beats imgly's ``reference`` on ``run``."""
    mine = next((r for r in rows if r.side == OURS and r.variant == ours and r.run == run), None)
    ref = reference_of(rows, reference, run)
    if mine is None or ref is None:
        return f"no {run} runs of both ours {ours} and imgly {reference}"
    e2e, cpu = ratio(mine.e2e_s, ref.e2e_s), ratio(mine.cpu_s, ref.cpu_s)
    word = "beats" if e2e < 1 else "does NOT beat"
    return (f"{run}: ours {ours} {word} imgly {reference} end to end: {mine.e2e_s:.1f} s vs "
            f"{ref.e2e_s:.1f} s ({e2e:.2f}x), CPU {mine.cpu_s:.1f} s vs {ref.cpu_s:.1f} s "
            f"({cpu:.2f}x)")  # fmt: skip
