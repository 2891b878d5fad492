"""Benchmark the widget against @imgly/background-removal on the same photo, in one run.

One headless Chromium (/usr/bin/chromium) measures, on each photo (default:
matplotlib's grace_hopper.jpg, centre-cropped to 480x360):

- imgly 1.4.5's ``removeBackground`` (installed by name into the cache's npm folder on
  first use, bundled with esbuild, served with the installed data package from a local
  server; every request is checked to stay on 127.0.0.1), for its default model
  (``medium``, fp16 ISNet) and ``small`` (uint8 ISNet): cold (fresh page, first call,
  model fetch and session included) and warm (second call);
- the widget in a real JupyterLab for the default precision (int8-static) and fp32, with each
  policy (``auto``: what users get, the kernel answering first when the browser would be slow;
  ``browser``: the browser alone): cold (fresh profile, assets sent over the kernel websocket)
  and warm (cell re-run): wall time from starting the cell to the first full cut-out drawn and
  to the browser's own mask, CPU of Chromium and of the kernel, in-browser inference, the
  kernel twin's inference on the same pixels, and parity.

Both sides run onnxruntime-web on one thread (neither page is cross-origin isolated).
CPU s = CPU seconds of Chromium's processes during the run (less load-sensitive than
wall time). It prints one table per photo with ratios ours / imgly (same run kind), and
the IoU of the masks. Usage::

    .venv/bin/python -m widget.bench imgly [--image PATH ...] [--precisions int8-static fp32]
        [--imgly-models medium small] [--no-install] [--model-spec my-model.json]

``first s`` is the time to the first cut-out drawn (our preview's, when the widget draws one);
``e2e s`` the time to the full one, read once the kernel holds the browser's final mask.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from segmentation.evaluation.browser_runtime import BrowserSession
from segmentation.evaluation.cpu_time import cpu_s_since, tree_cpu
from segmentation.evaluation.imgly.browser import ImglyServer, run_imgly
from segmentation.evaluation.imgly.install import (
    LIBRARY_PACKAGE,
    LIBRARY_VERSION,
    ImglyUnavailableError,
    bundle,
    ensure_imgly,
)
from segmentation.evaluation.imgly.report import (
    IMGLY,
    OURS,
    Row,
    format_table,
    photo_at,
    verdict,
)
from segmentation.evaluation.metrics import iou
from segmentation.images import load_image
from segmentation.models.registry import Registry, default_registry
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION, ModelSpec
from segmentation.models.spec_file import read_spec_file
from segmentation.store import ensure_wrapped
from widget.bench.harness import jupyter, model_labels, parser, sample_photo
from widget.bench.widget_runs import measure_widget
from widget.remover.run import Parity
from widget.testing.chromium import chromium
from widget.testing.jupyter_server import JupyterServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

Masks = dict[tuple[str, str], np.ndarray]


def bench_imgly(
    browser: Browser, server: ImglyServer, photo: str, models: list[str]
) -> tuple[list[Row], Masks]:
    """Run imgly cold and warm per model config on ``/photo/<photo>``."""
    rows, masks = [], {}
    for model in tqdm(models, desc=f"imgly {photo}", leave=False):
        for r in run_imgly(browser, server, photo, model, calls=2):
            rows.append(Row(IMGLY, model, r.run, r.wall_s, r.cpu_s, r.compute_s))
            masks[(IMGLY, model)] = r.alpha
    return rows, masks


#: How our widget is run: what users get by default, and the browser alone.
POLICIES = ("auto", "browser")


def bench_ours(
    browser: Browser,
    server: JupyterServer,
    photo: Path,
    precisions: list[str],
    timeout_s: float,
    model_spec: Path | None = None,
    policies: tuple[str, ...] = POLICIES,
) -> tuple[list[Row], Masks]:
    """Run the widget cold and warm per policy and precision, each pair in a fresh profile."""
    labels = model_labels(precisions, model_spec)
    measured = measure_widget(
        browser, server, photo, labels, timeout_s, model_spec, policies, keep_masks=True,
        desc=f"ours {photo.name}",
    )  # fmt: skip
    rows = []
    for t in measured.runs:
        cmp = t["compare"]
        levels = round(cmp["max_abs_diff"] * 255)
        same = Parity(cmp["differing_pixels"] == 0, cmp["iou"], cmp["differing_pixels"], levels)
        parity = t["parity"] or same.describe()  # the browser answered first: compared now
        rows.append(Row(OURS, f"{t['label']} {t['policy']}", t["run"], t["e2e"] / 1e3,
                        t["chromium_cpu"], float(t["inference"]) / 1e3,
                        float(cmp["kernel_ms"]) / 1e3, t["first"] / 1e3, t["own"] / 1e3,
                        t["kernel_cpu"], parity))  # fmt: skip
    masks = {(OURS, f"{label} {policy}"): m for (policy, label), m in measured.masks.items()}
    return rows, masks


def engine_specs(precisions: list[str], model_spec: Path | None) -> dict[str, ModelSpec]:
    """Row label -> spec of each model the engine-only rows run (as :func:`bench_ours` labels)."""
    if model_spec is None:
        registry = default_registry()
        return {p: registry.get(DEFAULT_MODEL, p) for p in precisions}
    model_file, spec = read_spec_file(model_spec)
    label = model_labels([], model_spec)[0]
    return {label: Registry().register_file(model_file, spec)}


def bench_engine(photo: Path, specs: dict[str, ModelSpec]) -> list[Row]:
    """Run the widget's engine alone (no JupyterLab) warm, twice per model, same pixels."""
    rgba = load_image(photo).pixels
    rows = []
    with BrowserSession(threads=1) as session:
        for label, spec in tqdm(specs.items(), desc=f"engine {photo.name}", leave=False):
            session.load(ensure_wrapped(spec))
            cpu0 = tree_cpu(None, "chrom")
            run = session.run(rgba, repeats=2)
            cpu = cpu_s_since(cpu0, "chrom") / 2
            e2e = run.median_s + run.decode_s
            rows.append(Row(OURS, f"{label} engine", "warm", e2e, cpu, run.median_s))
    return rows


def print_ious(masks: Masks) -> None:
    """Print IoU (masks thresholded at 0.5) of each of our masks against each of imgly's."""
    ours = [k for k in masks if k[0] == OURS]
    theirs = [k for k in masks if k[0] == IMGLY]
    for o in ours:
        parts = [f"imgly {t[1]} {iou(masks[o], masks[t]):.3f}" for t in theirs]
        print(f"IoU ours {o[1]} vs " + ", ".join(parts))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both sides per photo, print the tables."""
    ap = parser("imgly", __doc__)
    ap.add_argument("--image", type=Path, action="append", help="default: grace_hopper.jpg")
    ap.add_argument("--size", type=int, nargs=2, default=(480, 360), metavar=("W", "H"))
    ap.add_argument("--precisions", nargs="+", default=[DEFAULT_PRECISION, "fp32"])
    ap.add_argument("--imgly-models", nargs="+", default=["medium", "small"])
    ap.add_argument(
        "--model-spec", type=Path, help="our side runs this model (JSON), not --precisions"
    )
    ap.add_argument(
        "--policies", nargs="+", choices=POLICIES, default=list(POLICIES),
        help="our widget's backend: auto (the default users get) and/or browser (alone)",
    )  # fmt: skip
    ap.add_argument("--no-install", action="store_true", help="fail instead of npm install")
    ap.add_argument("--no-engine", action="store_true", help="skip the engine-only rows")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per step")
    args = ap.parse_args(argv)
    sources = args.image or [sample_photo()]
    try:
        print(f"preparing {LIBRARY_PACKAGE}@{LIBRARY_VERSION} ...", flush=True)
        library, data = ensure_imgly(install=not args.no_install)
    except ImglyUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    t_start = time.perf_counter()
    results: dict[str, tuple[list[Row], Masks]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        js = bundle(library, tmp / "bundle")
        photos = {f"{i}-{s.stem}.jpg": photo_at(s, tmp / f"{i}-{s.stem}.jpg", tuple(args.size))
                  for i, s in enumerate(sources)}  # fmt: skip
        with (
            chromium() as browser,
            ImglyServer(js, data / "dist", photos) as server,
            jupyter(tmp / "jupyter") as lab,
        ):
            for name, path in tqdm(photos.items(), desc="photos"):
                rows, masks = bench_imgly(browser, server, name, args.imgly_models)
                ours, our_masks = bench_ours(
                    browser,
                    lab,
                    path,
                    args.precisions,
                    args.timeout,
                    args.model_spec,
                    tuple(args.policies),
                )
                results[name] = (rows + ours, {**masks, **our_masks})
        # after Playwright above stopped: its sync API allows one driver per thread
        for name, path in [] if args.no_engine else photos.items():
            try:
                specs = engine_specs(args.precisions, args.model_spec)
                results[name][0].extend(bench_engine(path, specs))
            except Exception as exc:  # the main table still prints
                print(f"engine-only rows failed: {exc!r}", file=sys.stderr)
    w, h = args.size
    print(f"\n{os.cpu_count()} CPUs; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after; {time.perf_counter() - t_start:.0f} s in all "
          "(a busy machine inflates wall times; CPU s much less)")  # fmt: skip
    for name, (rows, masks) in results.items():
        print(
            f"\n{name} at {w}x{h}; imgly {LIBRARY_VERSION} (ORT-web 1.17) vs ours (ORT-web of js/)"
        )
        print(format_table(rows, args.imgly_models[0]))
        for policy in args.policies:
            ours_first = f"{model_labels(args.precisions, args.model_spec)[0]} {policy}"
            for model in args.imgly_models:
                for run in ("cold", "warm"):
                    print(verdict(rows, ours_first, model, run))
        print_ious(masks)
    print(
        "\nours auto = BackgroundRemover(photo), what users get (the kernel answers first when "
        "the browser would take longer than 1 s); ours browser = backend='browser', the "
        "browser alone. first s: cell started -> first cut-out drawn (a preview's); cut-out s: "
        "-> the first full-resolution cut-out drawn (imgly: removeBackground -> PNG Blob; cold "
        "fetches its model from the local server); browser's s: -> the browser's own mask in the "
        "kernel; CPU s: Chromium's processes; kernel CPU s: the notebook kernel; inf s: the "
        "model run in the browser (imgly: its compute:inference span); kernel s: the same "
        "wrapped model in the kernel; parity: the browser's mask against the kernel's. Cold "
        "sends model and wasm over the kernel websocket, mirrored by Playwright (slower than "
        "for a user). '<p> engine' rows: the widget's worker in a bare page, session created: "
        "decode + inference, no JupyterLab."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
