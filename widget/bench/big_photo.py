"""Peak memory of a 108 MP photo (12000x9000 JPEG) through ``Segmenter.mask`` and ``.cutout``.

The photo is made here: scikit-image's ``coffee`` photo upscaled (bicubic) to
12000x9000 and saved as a JPEG (quality 90) in a temporary folder. Each case
runs in a fresh child process, which reports its own peak resident set size
(``VmHWM`` of ``/proc/self/status``) after creating the session
(``model_mb``: the model and onnxruntime alone) and at the end (``peak_mb``; for
``cutout`` after saving the PNG too), so one case's memory never counts against
another's. ``call_s`` times the ``mask``/``cutout`` call alone. Target: the 108 MP cases
below 2.5 GB.

Cases: ``mask`` and ``cutout`` of the 108 MP photo as the Segmenter runs them
(reduced decode for the model above 50 MP, mask upsampled to full size); the
same on a 12 MP (4000x3000) photo, which runs the exact decoded pixels; with
``--full``, also the 108 MP mask without the reduction (``reduce_above=None``),
the cost the reduction avoids (several GB and minutes on 2 cores).

Usage::

    .venv/bin/python -m widget.bench big-photo [--precision int8-static] [--threads 2] [--full]
        [--big 12000x9000] [--normal 4000x3000]   # the two photo sizes

A child runs this file as a script, which imports only :mod:`segmentation`: the widget's
imports (``python -m widget.bench`` loads them) would count in its peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from segmentation.session import REDUCE_ABOVE_PIXELS, Segmenter

BIG = (12000, 9000)
NORMAL = (4000, 3000)


def make_photo(folder: Path, size: tuple[int, int]) -> Path:
    """Write scikit-image's ``coffee`` upscaled to ``size`` as a JPEG; return its path."""
    from skimage import data

    path = folder / f"coffee_{size[0]}x{size[1]}.jpg"
    Image.fromarray(data.coffee()).resize(size, Image.Resampling.BICUBIC).save(path, quality=90)
    return path


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (``VmHWM``; Linux reports KiB).

    Not ``ru_maxrss``: Linux keeps the launcher's peak in it across ``exec``, so a child of a
    bigger process would report the launcher's peak until its own grew past it.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def child(case: str, photo: str, precision: str, threads: int) -> None:
    """Run one case in this (fresh) process and print its numbers as JSON."""
    reduce_above = None if case == "mask-full" else REDUCE_ABOVE_PIXELS
    seg = Segmenter(precision=precision, threads=threads, reduce_above=reduce_above)
    model = peak_mb()
    start = time.perf_counter()
    save_s = 0.0
    if case == "cutout":
        out = seg.cutout(photo)
        size = out.size
        seconds = time.perf_counter() - start
        out.save(Path(photo).with_suffix(".cutout.png"))  # as a user would (counts in the peak)
        save_s = time.perf_counter() - start - seconds
    else:
        mask = seg.mask(photo)
        size = (mask.shape[1], mask.shape[0])
        seconds = time.perf_counter() - start
    record = {"model_mb": model, "peak_mb": peak_mb(), "s": seconds, "save_s": save_s}
    print(json.dumps({**record, "size": size}))


def main(argv: list[str] | None = None) -> int:
    """Make the photos, run each case in a child process, print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m widget.bench big-photo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--precision", default="int8-static")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="also the unreduced 108 MP mask")
    parser.add_argument("--big", type=parse_size, default=BIG, metavar="WxH", help="12000x9000")
    parser.add_argument(
        "--normal", type=parse_size, default=NORMAL, metavar="WxH", help="4000x3000"
    )
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PHOTO"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.precision, args.threads)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-big-photo-") as tmp:
        big, normal = make_photo(Path(tmp), args.big), make_photo(Path(tmp), args.normal)
        cases = [("mask", big), ("cutout", big), ("mask", normal), ("cutout", normal)]
        if args.full:
            cases.append(("mask-full", big))
        rows = []
        for case, photo in tqdm(cases, desc="cases", unit="case"):
            cmd = [sys.executable, __file__, "--child", case, str(photo)]
            cmd += ["--precision", args.precision, "--threads", str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                rows.append((case, photo.name, "-", "-", "-", "-", f"failed: {tail}"))
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            out = f"{r['size'][0]}x{r['size'][1]}"
            save = f"{r['save_s']:.1f}" if case == "cutout" else "-"
            rows.append((case, photo.name, f"{r['s']:.1f}", save, f"{r['model_mb']:.0f}",
                         f"{r['peak_mb']:.0f}", out))  # fmt: skip
    header = ("case", "photo", "call_s", "png_save_s", "model_mb", "peak_mb", "output")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"IS-Net {args.precision}, {args.threads} threads; peak RSS per child process")
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    failed = [r for r in rows if str(r[-1]).startswith("failed")]
    if failed:
        raise SystemExit(f"{len(failed)} of {len(rows)} cases failed")
    return 0


def parse_size(text: str) -> tuple[int, int]:
    """``"4000x3000"`` -> (4000, 3000)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WxH (e.g. 4000x3000), got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"width and height must be >= 1, got {text!r}")
    return w, h


if __name__ == "__main__":
    raise SystemExit(main())
