"""Command line: ``python -m segmentation`` (or ``pixel-liberation``).

Subcommands: ``remove`` (cut out images), ``models`` (the catalog), ``fetch``
(get the default models), ``demo`` (the quick start on matplotlib's sample
photos). Other modules add subcommands through :data:`SUBCOMMAND_MODULES`.

Every failure ends with a non-zero exit status and exactly one line on stderr,
never a traceback; a batch goes on past bad files and fails at the end.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from segmentation.cli.demo import run_demo
from segmentation.cutouts import compose, parse_color
from segmentation.errors import SegmentationError
from segmentation.image_batch import iter_results
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION
from segmentation.session import Segmenter, get_segmenter
from segmentation.store import DEFAULT_FETCH, fetch_models, model_path
from segmentation.variants.wrapper import MAX_RESOLUTION, RESOLUTION_STEP, check_resolution

#: Modules that may add subcommands: each defines ``add_subcommands(subparsers)``
#: and gives its parsers ``set_defaults(func=handler)`` with ``handler(args) -> int``.
#: A module that is not installed is skipped.
SUBCOMMAND_MODULES: tuple[str, ...] = ("segmentation.cli.bench",)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are a single line on stderr."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def one_line(exc: BaseException) -> str:
    """Return ``exc`` as a single line of text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


class _ModelUnavailableError(Exception):
    """The model could not be loaded: stop the batch instead of failing every image."""


class _LazySegmenter:
    """Create the session on the first image that decodes, so bad inputs fail fast."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.segmenter: Segmenter | None = None

    def get(self) -> Segmenter:
        if self.segmenter is None:
            try:
                self.segmenter = get_segmenter(
                    self.args.model,
                    self.args.precision,
                    self.args.threads,
                    progress=sys.stderr.isatty(),
                )
            except (SegmentationError, OSError, ValueError, NotImplementedError) as exc:
                raise _ModelUnavailableError(one_line(exc)) from exc
        return self.segmenter

    def run_pixels(self, rgba: np.ndarray) -> np.ndarray:
        return self.get().run_pixels(rgba, getattr(self.args, "resolution", None))


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Files as given; folders replaced by the images directly inside them, sorted."""
    out: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out += sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(item)
    return out


def _unique(outdir: Path, stem: str, suffix: str, used: set[Path]) -> Path:
    candidate, n = outdir / f"{stem}{suffix}", 1
    while candidate in used:
        candidate, n = outdir / f"{stem}-{n}{suffix}", n + 1
    used.add(candidate)
    return candidate


def cmd_remove(args: argparse.Namespace) -> int:
    """Cut out every input into ``args.output``; fail at the end if any image failed."""
    if args.background is not None:
        parse_color(args.background)  # a bad colour fails before any work
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    if args.resolution is not None:
        check_resolution(args.resolution)  # a bad resolution fails before any work
    sources = expand_inputs(args.inputs)
    if not sources:
        raise SegmentationError(f"no images found in {', '.join(args.inputs)}")
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    lazy = _LazySegmenter(args)
    used: set[Path] = set()
    failures: list[str] = []
    start = time.perf_counter()
    try:
        results = iter_results(lazy, sources, progress=None, keep_images=True)
        for res in results:
            if not res.ok or res.image is None or res.mask is None:
                failures.append(res.error or res.source)
                tqdm.write(f"failed  {res.error}")
                continue
            stem = Path(res.source).stem
            if args.mask_only:
                dest = _unique(outdir, stem, ".mask.png", used)
                Image.fromarray(res.mask, "L").save(dest)
            else:
                dest = _unique(outdir, stem, ".png", used)
                compose(res.image, res.mask, args.background).save(dest)
            tqdm.write(f"{dest}  ({res.source}, {res.seconds:.2f} s)")
    except _ModelUnavailableError as exc:
        raise SegmentationError(str(exc)) from None
    total = time.perf_counter() - start
    ok = len(sources) - len(failures)
    print(f"{ok} of {len(sources)} images done in {total:.2f} s")
    if failures:
        noun = "image" if len(sources) == 1 else "images"
        raise SegmentationError(
            f"{len(failures)} of {len(sources)} {noun} failed: " + "; ".join(failures)
        )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """Print the catalog: name, precision, local presence and size, licence, online-only."""
    rows = [("NAME", "PRECISION", "LOCAL", "SIZE", "ONLINE-ONLY", "LICENCE")]
    for spec in default_registry():
        path = model_path(spec)
        present = path.is_file()
        size = f"{path.stat().st_size / 2**20:.1f} MiB" if present else "-"
        online = "yes" if spec.online_only else "no"
        rows.append(
            (spec.name, spec.precision, "yes" if present else "no", size, online, spec.license)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Obtain, verify and wrap the models named (default: IS-Net's four), with progress bars."""
    for key, path in fetch_models(args.models or DEFAULT_FETCH, progress=True).items():
        print(f"{key}  {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run :func:`segmentation.cli.demo.run_demo`."""
    run_demo(
        args.output, precision=args.precision, threads=args.threads, progress=sys.stderr.isatty()
    )
    return 0


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})")
    p.add_argument(
        "--precision",
        default=None,
        help=f"int8-static, fp32, fp16 or int8 (default {DEFAULT_PRECISION}, "
        "or the model's only precision)",
    )
    p.add_argument("--threads", type=int, default=None, help="onnxruntime threads")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand, including those of :data:`SUBCOMMAND_MODULES`."""
    parser = _Parser(prog="pixel-liberation", description="Remove image backgrounds.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("remove", help="cut out the subject of images")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    _add_model_options(p)
    p.add_argument(
        "--resolution",
        type=int,
        default=None,
        metavar="PX",
        help=f"model input side: a multiple of {RESOLUTION_STEP} up to {MAX_RESOLUTION}"
        " (default: the model's, 1024 for IS-Net); lower is faster and coarser",
    )
    p.add_argument("--mask-only", action="store_true", help="write <name>.mask.png only")
    p.add_argument("--background", metavar="COLOR", help="fill colour, e.g. white or #00ff00")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("models", help="list the model catalog")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser(
        "fetch",
        help="get, verify and prepare models (default: IS-Net int8-static, fp16, int8, fp32); "
        "damaged cached files are replaced",
    )
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help="NAME or NAME:PRECISION, e.g. u2netp, isnet-general-use:fp16")  # fmt: skip
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("demo", help="cut out matplotlib's sample photos (quick start)")
    p.add_argument("-o", "--output", default="cutouts", metavar="OUTDIR")
    p.add_argument("--precision", default=DEFAULT_PRECISION)
    p.add_argument("--threads", type=int, default=None)
    p.set_defaults(func=cmd_demo)

    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.add_subcommands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failure, 2 usage, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Handler = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (SegmentationError, OSError, ValueError, NotImplementedError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1


def run() -> NoReturn:
    """Entry point for ``python -m segmentation``."""
    sys.exit(main())
