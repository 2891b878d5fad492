"""Command line: ``python -m segmentation`` (or ``pixel-liberation``).

Subcommands: ``remove`` (cut out images, or make product photos with ``--preset``: the
resumable many-image job of :mod:`segmentation.jobs`), ``presets`` (the product-photo
presets and their sources), ``models`` (the catalog), ``fetch``
(get the default models), ``demo`` (the quick start on matplotlib's sample
photos). Other modules add subcommands through :data:`SUBCOMMAND_MODULES`.

Every failure ends with a non-zero exit status and exactly one line on stderr,
never a traceback; a batch goes on past bad files and failed writes, prints a
summary, names the failures in that line (the first ten; the manifest has all)
and exits 1. Ctrl+C exits 130 after saying how far the job got; the same
command resumes it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from tqdm.auto import tqdm

from segmentation.cli.demo import run_demo
from segmentation.cli.options import add_engine_options
from segmentation.conversion.wrapper import MAX_RESOLUTION, RESOLUTION_STEP, check_resolution
from segmentation.cutouts import parse_color
from segmentation.errors import SegmentationError
from segmentation.images import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV
from segmentation.jobs.job import JobInterrupted, remove_many
from segmentation.jobs.manifest import MANIFEST_NAME, ManifestRow
from segmentation.jobs.names import display
from segmentation.models.licences import licence_of
from segmentation.models.registry import Registry, builtin_registry, default_registry
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION
from segmentation.models.spec_file import read_spec_file
from segmentation.product.presets import SOURCES, load_presets, preset_names, resolve_preset
from segmentation.store import DEFAULT_FETCH, fetch_models, model_path

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
    """Return ``exc`` as a single line of printable text (file names that are not UTF-8 too)."""
    text = " ".join(display(str(exc)).split()) or type(exc).__name__
    return text


#: Failures named in the final error line; the manifest holds them all.
NAMED_FAILURES = 10


def _custom_model(args: argparse.Namespace) -> tuple[Registry | None, str, str | None]:
    """Return registry, model and precision: the catalog's, or a ``--model-spec`` file's."""
    if args.model_spec is None:
        return None, args.model, args.precision
    model_file, spec = read_spec_file(args.model_spec)
    registry = builtin_registry()
    spec = registry.register_file(model_file, spec)
    return registry, spec.name, spec.precision


def _describe(row: ManifestRow) -> str:
    error = row.error or row.status
    return display(error if row.source in error else f"{row.source}: {error}")


#: What a ``kept`` row is told: the file is not the job's, and how to replace it.
KEPT = "exists, not made by this job: kept (--overwrite replaces it)"


def _print_row(row: ManifestRow) -> None:
    if not row.ok:
        tqdm.write(f"failed  {_describe(row)}")
        return
    how = {"done": f"{row.seconds:.2f} s", "skipped": "up to date", "kept": KEPT}
    outputs = ", ".join(display(p) for p in row.outputs)
    tqdm.write(f"{outputs}  ({display(row.source)}, {how[row.status]})")


def _summary(rows: list[ManifestRow], total: int, seconds: float, manifest: Path) -> str:
    counts = Counter(row.status for row in rows)
    ok = len(rows) - counts["failed"]
    parts = [f"{counts['done']} written"]
    parts += [f"{counts['skipped']} up to date"] if counts["skipped"] else []
    parts += [f"{counts['kept']} kept, not made by this job"] if counts["kept"] else []
    hint = "; --overwrite replaces kept files" if counts["kept"] else ""
    return (
        f"{ok} of {total} images done in {seconds:.2f} s ({', '.join(parts)}); "
        f"manifest {display(str(manifest))}{hint}"
    )


def cmd_remove(args: argparse.Namespace) -> int:
    """Cut out every input into ``args.output`` through the job; fail at the end if any failed."""
    for flag in ("threads", "workers", "batch_size", "max_pixels"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be at least 1, got {value}")
    if args.background is not None:
        parse_color(args.background)  # a bad colour fails before any work
    if args.resolution is not None:
        check_resolution(args.resolution)  # a bad resolution fails before any work
    user = load_presets(args.preset_file) if args.preset_file else None
    if args.preset is not None:
        resolve_preset(args.preset, user=user)  # an unknown or bad preset fails before any work
    registry, model, precision = _custom_model(args)
    out = Path(args.output)
    manifest = Path(args.manifest) if args.manifest else out / MANIFEST_NAME
    start = time.perf_counter()
    try:
        rows = remove_many(
            args.inputs,
            out,
            cluster=args.cluster,
            workers=args.workers,
            model=model,
            precision=precision,
            registry=registry,
            threads=args.threads,
            resolution=args.resolution,
            mask_only=args.mask_only,
            background=args.background,
            preset=args.preset,
            presets=user,
            overwrite=args.overwrite,
            max_pixels=args.max_pixels,
            manifest=manifest,
            batch_size=args.batch_size,
            ship_model=args.ship_model,
            progress=sys.stderr.isatty(),
            on_result=_print_row,
            log=tqdm.write,
        )
    except JobInterrupted as exc:
        print(_summary(exc.rows, exc.total, time.perf_counter() - start, manifest))
        raise
    print(_summary(rows, len(rows), time.perf_counter() - start, manifest))
    failures = [_describe(row) for row in rows if not row.ok]
    if failures:
        noun = "image" if len(rows) == 1 else "images"
        named = "; ".join(failures[:NAMED_FAILURES])
        more = len(failures) - NAMED_FAILURES
        tail = f"; and {more} more (see {manifest})" if more > 0 else ""
        raise SegmentationError(f"{len(failures)} of {len(rows)} {noun} failed: {named}{tail}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """Print the catalog: name, precision, local presence and size, online-only, licences.

    COMMERCIAL says whether commercial use of the output is cleared by what the catalog
    knows (yes / no / unclear; see docs/models-and-licences.md); LICENCE the facts.
    """
    rows = [("NAME", "PRECISION", "LOCAL", "SIZE", "ONLINE-ONLY", "COMMERCIAL", "LICENCE")]
    for spec in default_registry():
        path = model_path(spec)
        present = path.is_file()
        size = f"{path.stat().st_size / 2**20:.1f} MiB" if present else "-"
        online = "yes" if spec.online_only else "no"
        facts = licence_of(spec.name)
        commercial = facts.commercial_output if facts else "?"
        rows.append(
            (spec.name, spec.precision, "yes" if present else "no", size, online, commercial,
             spec.license)
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    print("COMMERCIAL: whether commercial use of the output is cleared; see "
          "docs/models-and-licences.md")  # fmt: skip
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    """Print the product-photo presets (built-in, then a file's) and where their rules come from."""
    user = load_presets(args.preset_file) if args.preset_file else {}
    for name in preset_names(user):
        spec = resolve_preset(name, user=user)
        size = "x".join(map(str, spec.canvas)) if spec.canvas else "subject's own"
        fill = f"fill {spec.fill:.0%}" if spec.fill else f"margin {spec.margin.to_json()}"
        bg = (
            "transparent"
            if spec.background[3] == 0
            else "#{:02x}{:02x}{:02x}".format(*spec.background[:3])
        )
        shadow = ", shadow" if spec.shadow else ""
        print(f"{name}: {size}, {fill}, {bg}{shadow}, {spec.format} q{spec.quality}")
        source = SOURCES.get(name, f"user preset from {args.preset_file}")
        print(f"    {source}")
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

    p = sub.add_parser("remove", help="cut out the subject of images (resumable many-image job)")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files, folders, or .txt/.lst files listing paths (one a line; a relative"
        " one is taken from the list file's folder, not the current one)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTDIR",
        help="output folder (one job at a time: a second one stops, naming the first)",
    )
    _add_model_options(p)
    p.add_argument(
        "--resolution",
        type=int,
        default=None,
        metavar="PX",
        help=f"model input side: a multiple of {RESOLUTION_STEP} up to {MAX_RESOLUTION}"
        " (default: the model's, 1024 for IS-Net); lower is faster and coarser",
    )
    p.add_argument(
        "--model-spec",
        metavar="JSON",
        default=None,
        help="your own ONNX model: a JSON file with its path and how to feed it",
    )
    p.add_argument("--mask-only", action="store_true", help="write <name>.mask.png only")
    p.add_argument("--background", metavar="COLOR", help="fill colour, e.g. white or #00ff00")
    p.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="write product photos: amazon, shopify, transparent, a name from --preset-file, "
        "or a .json file (see `presets`)",
    )
    p.add_argument(
        "--preset-file",
        default=None,
        metavar="JSON",
        help='your presets: {"presets": {"name": {"extends": "amazon", ...}}}',
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="redo every image and replace existing outputs (default: skip them)",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        metavar="N",
        help=f"refuse images larger than N pixels (default {DEFAULT_MAX_PIXELS // 10**6} MP, "
        f"or ${MAX_PIXELS_ENV})",
    )
    p.add_argument(
        "--manifest",
        default=None,
        metavar="PATH",
        help="JSON Lines manifest (default OUTDIR/manifest.jsonl)",
    )
    add_engine_options(p)
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="images per task (default: ~4 tasks per worker, at most 64)",
    )
    p.add_argument(
        "--ship-model",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the model file to Dask workers (default: for an existing cluster)",
    )
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("presets", help="list the product-photo presets and their sources")
    p.add_argument("--preset-file", default=None, metavar="JSON", help="also list these")
    p.set_defaults(func=cmd_presets)

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
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for results files
    func: Handler = args.func
    try:
        return func(args)
    except KeyboardInterrupt as exc:
        print(f"error: {one_line(exc) if str(exc) else 'interrupted'}", file=sys.stderr)
        return 130
    except (SegmentationError, OSError, ValueError, NotImplementedError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1


def run() -> NoReturn:
    """Entry point for ``python -m segmentation``."""
    sys.exit(main())
