"""Per-image latency: the full kernel pipeline vs a bare ``session.run`` of the same model.

Full pipeline = ``load_image`` (decode, EXIF, RGBA) + the wrapped graph (resize,
normalise, model, min-max, resize back). Bare = the unwrapped model's
``session.run`` on a pre-made 1x3x1024x1024 float tensor. Same model file
precision, same thread count, same session options; one warm-up run each, then
the median of ``--repeats`` runs.

Usage::

    .venv/bin/python -m widget.bench pipeline --precision fp16 int8 --threads 2 --repeats 3
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from segmentation.images import load_image
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL
from segmentation.session import Segmenter, session_options
from segmentation.store import ensure_model
from widget.bench.harness import parser, sample_photo

Timing = tuple[float, float]  # (wall seconds, process CPU seconds)


def median_seconds(fn: Callable[[], object], repeats: int) -> Timing:
    """Warm up once, then return the median wall and process-CPU seconds of ``repeats`` runs.

    CPU time (all threads of this process) is reported too because wall time on
    a shared machine mostly measures the neighbours.
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench_images(workdir: Path) -> list[Path]:
    """grace_hopper.jpg as shipped, and upscaled to a 12 MP phone-photo size (JPEG)."""
    grace = sample_photo()
    big = workdir / "grace_hopper_4032x3024.jpg"
    Image.open(grace).resize((3024, 4032), Image.Resampling.BICUBIC).save(big, quality=90)
    return [grace, big]


def main(argv: list[str] | None = None) -> int:
    """Print one table row per precision and image."""
    ap = parser("pipeline", __doc__)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--precision", nargs="+", default=["fp16", "int8"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rows: list[tuple[str, str, str, Timing, Timing, Timing]] = []
    with tempfile.TemporaryDirectory() as tmp:
        images = bench_images(Path(tmp))
        for precision in args.precision:
            seg = Segmenter(args.model, precision, threads=args.threads)
            spec = default_registry().get(args.model, precision)
            bare = ort.InferenceSession(
                str(ensure_model(spec)),
                session_options(args.threads),
                providers=["CPUExecutionProvider"],
            )
            h, w = spec.input_size
            tensor = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32) - 0.5
            feed = {spec.input_name: tensor}
            t_bare = median_seconds(partial(bare.run, None, feed), args.repeats)
            for path in images:
                t_load = median_seconds(partial(load_image, path), args.repeats)
                t_full = median_seconds(partial(seg.mask, path), args.repeats)
                size = "x".join(map(str, Image.open(path).size))
                rows.append((precision, path.name, size, t_load, t_full, t_bare))
    print(f"model {args.model}, {args.threads} threads, median of {args.repeats}")
    print("seconds as wall / process CPU; overhead = full - bare")
    print(
        f"{'precision':9}  {'image':28}  {'size':>9}  {'decode':>13}  {'full':>13}"
        f"  {'bare run':>13}  {'overhead':>15}"
    )
    for precision, name, size, load, full, bare_t in rows:
        cells = [f"{w:5.2f} / {c:5.2f}" for w, c in (load, full, bare_t)]
        over = f"{full[0] - bare_t[0]:+6.2f} / {full[1] - bare_t[1]:+6.2f}"
        print(f"{precision:9}  {name:28}  {size:>9}  " + "  ".join(cells) + f"  {over:>15}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
