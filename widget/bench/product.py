"""Product-photo step: speed (kernel and browser worker) and edge quality (decontamination).

Usage::

    .venv/bin/python -m widget.bench product --speed            # 12 MP photo, mask given
    .venv/bin/python -m widget.bench product --quality          # icm58_objects composites
    .venv/bin/python -m widget.bench product --quality --figures OUT  # + edge crops at 100 %
    .venv/bin/python -m widget.bench product --job 100          # `remove --preset` on 100 photos
    .venv/bin/python -m widget.bench product --smoke            # CI: one small made image

Speed: a project-made photo (default 4000x3000) and its mask go through the whole step
(decontamination, framing, shadow, encoding) for each preset, in the kernel (numpy, this
process) and in the browser (the engine's own worker in headless Chromium); the page also
records every main-thread task longer than 50 ms (PerformanceObserver "longtask").

Quality: for each image of ``icm58_objects`` (hand-made soft alpha mattes; read from
``segmentation.config.datasets_dir()``, never copied), the foreground colours are estimated
with a reference method (pymatting's ``estimate_foreground_ml``, the ``bench`` extra), the
object is composited onto background A, and the step's edge handling is run on that
composite with the true alpha and with IS-Net's mask; the result is put onto background B
and compared with the true composite on B (mean absolute error in 8-bit levels, over the
pixels where either alpha is soft, and over the whole image): as is, decontaminated, with
some steps of the estimate left out (``VARIANTS``), and with the reference's own colours
(what a perfect colour estimate would give with that alpha). Images are reduced to
``--max-side`` first (the reference is slow).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from segmentation.config import datasets_dir
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.page_server import BenchServer
from segmentation.product.compose import product_pixels
from segmentation.product.decontaminate import edge_estimate, estimate_foreground, refine
from segmentation.product.encode import encode
from segmentation.product.presets import resolve_preset
from segmentation.product.spec import ProductSpec
from segmentation.session import Segmenter
from widget.bench.harness import parser
from widget.testing.chromium import chromium

ROOT = Path(__file__).resolve().parents[2]

BACKGROUND_A = (30, 190, 60)  # a green screen-ish colour the edges must not keep
BACKGROUND_B = (255, 255, 255)  # the marketplace's white


# --- made images -----------------------------------------------------------------------


def made_photo(w: int, h: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Make a product-like shape with a soft, wavy edge over a textured background.

    Returns the photo (RGBA), its alpha (the exact matte) and the true foreground colours.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    s = min(w, h)
    angle = np.arctan2(yy - 0.5 * h, xx - 0.5 * w)
    radius = 0.32 * s * (1 + 0.06 * np.sin(7 * angle) + 0.03 * np.sin(23 * angle))
    d = np.hypot(xx - 0.5 * w, (yy - 0.5 * h) * 1.25) - radius
    alpha = np.clip(0.5 - d / (0.004 * s), 0, 1)  # a soft band of ~0.4 % of the side
    fg = np.empty((h, w, 3), np.float32)
    fg[..., 0] = 200 + 40 * np.sin(xx / 37.0)
    fg[..., 1] = 60 + 30 * np.cos(yy / 53.0)
    fg[..., 2] = 40
    bg = np.empty((h, w, 3), np.float32)
    bg[..., 0] = 90 + 60 * yy / h
    bg[..., 1] = 150 + 50 * np.sin(xx / 90.0)
    bg[..., 2] = 200 - 80 * xx / w
    bg += rng.normal(0, 6, (h, w, 3)).astype(np.float32)
    a = alpha[..., None]
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = np.clip(a * fg + (1 - a) * bg + 0.5, 0, 255)
    rgba[..., 3] = 255
    return rgba, np.round(alpha * 255).astype(np.uint8), np.clip(fg, 0, 255)


# --- speed -----------------------------------------------------------------------------


def preset(name: str, canvas: str | None) -> ProductSpec:
    """Return the preset, with ``canvas`` instead of its own size (when it has one)."""
    spec = resolve_preset(name)
    return (
        spec.replace(canvas=tuple(int(v) for v in canvas.split("x")))
        if (canvas and spec.canvas)
        else spec
    )


def kernel_speed(
    rgba: np.ndarray, mask: np.ndarray, presets: list[str], repeats: int, canvas: str | None
) -> list[dict]:
    """Time the step (and the encoding) in this process, per preset."""
    rows = []
    for name in presets:
        spec = preset(name, canvas)
        steps, encodes = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = product_pixels(rgba, mask, spec)
            t1 = time.perf_counter()
            encode(result.pixels, spec)
            encodes.append(time.perf_counter() - t1)
            steps.append(t1 - t0)
        rows.append({"where": "kernel", "preset": name, "step_s": statistics.median(steps),
                     "encode_s": statistics.median(encodes),
                     "total_s": statistics.median(np.add(steps, encodes)),
                     "canvas": "x".join(map(str, result.pixels.shape[1::-1]))})  # fmt: skip
    return rows


def build_page(out: Path) -> None:
    """Bundle the product test page with the engine worker inlined (as the widget does)."""
    esbuild = ROOT / "js" / "node_modules" / ".bin" / "esbuild"
    common = ["--bundle", "--format=esm", "--target=es2022", "--log-level=warning"]
    worker = out / "worker.txt"
    subprocess.run([str(esbuild), str(ROOT / "js/src/engine/worker-wasm.ts"), *common,
                    f"--outfile={worker}"], check=True)  # fmt: skip
    page = ROOT / "js" / "test" / "page"
    subprocess.run([str(esbuild), str(page / "product-page.ts"), *common,
                    f"--alias:virtual:worker-source={worker}", "--loader:.txt=text",
                    f"--outfile={out / 'product-page.js'}"], check=True)  # fmt: skip
    shutil.copy(page / "product.html", out / "index.html")


LONG_TASKS = """() => {
  window.__long = [];
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) window.__long.push(e.duration); })
    .observe({ type: "longtask", buffered: false });
}"""


def browser_speed(
    rgba: np.ndarray, mask: np.ndarray, presets: list[str], repeats: int, canvas: str | None
) -> list[dict]:
    """Time the step in the engine's worker in headless Chromium; note main-thread long tasks."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_page(folder)
        server = BenchServer(idle_timeout_s=600)
        try:
            server.add("/index.html", folder / "index.html", "text/html")
            server.add("/product-page.js", folder / "product-page.js", "text/javascript")
            server.add("/p.raw", rgba.tobytes())
            server.add("/m.raw", mask.tobytes())
            with chromium() as browser:
                page = browser.new_page()
                page.goto(f"{server.url}/index.html")
                page.wait_for_function("document.body.dataset.ready === '1'")
                h, w = mask.shape
                warm = {"pixels": "/p.raw", "mask": "/m.raw", "width": w, "height": h,
                        "summary": True}  # fmt: skip
                page.evaluate("([s, src]) => window.__product.product(s, src)",
                              [resolve_preset("transparent").to_dict(), warm])  # fmt: skip
                page.evaluate(LONG_TASKS)  # from here on: what the step costs the page
                for name in presets:
                    spec = preset(name, canvas).to_dict()
                    steps, encodes = [], []
                    for _ in range(repeats):
                        src = {"pixels": "/p.raw", "mask": "/m.raw", "width": w, "height": h,
                               "summary": True}  # fmt: skip
                        out = page.evaluate(
                            "async ([s, src]) => {"
                            " const r = await window.__product.product(s, src);"
                            " return {ms: r.ms, width: r.width, height: r.height}; }",
                            [spec, src],
                        )
                        steps.append(out["ms"]["step"] / 1000)
                        encodes.append(out["ms"]["encode"] / 1000)
                    rows.append({"where": "browser worker", "preset": name,
                                 "step_s": statistics.median(steps),
                                 "encode_s": statistics.median(encodes),
                                 "total_s": statistics.median(np.add(steps, encodes)),
                                 "canvas": f"{out['width']}x{out['height']}"})  # fmt: skip
                longest = page.evaluate("Math.max(0, ...window.__long)")
        finally:
            server.close()
    for row in rows:
        row["longest_main_thread_task_ms"] = longest
    return rows


# --- quality ---------------------------------------------------------------------------


#: The estimate with some of its steps left out (``refine``'s keywords), to show what each
#: step does; "decontaminated" is the step itself, "reference colours" the composite's own
#: foreground colours (where the true alpha is above 0): the best any colour estimate can do
#: with that alpha.
VARIANTS: dict[str, dict[str, bool]] = {
    "blur-fusion": {"consistent_alpha": False, "unmix": False, "guard": False},
    "+ guard": {"consistent_alpha": False, "unmix": False, "guard": True},
    "+ consistent alpha": {"consistent_alpha": True, "unmix": False, "guard": True},
}
#: A rise of an image's soft-pixel error below this many levels counts as noise (see
#: docs/product-photos.md, "Edge quality").
NOISE = 0.5


def edge_colours(
    image_a: np.ndarray, alpha: np.ndarray, reference: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Colours to put on B with ``alpha``: as is, decontaminated, the variants, the reference."""
    out = {"as is": image_a}
    est = edge_estimate(image_a, alpha)
    for name, steps in VARIANTS.items():
        colours = image_a.copy()
        if est is not None:
            colours[est.ys, est.xs] = np.floor(refine(est, **steps) + 0.5).astype(np.uint8)
        out[name] = colours
    out["decontaminated"] = estimate_foreground(image_a, alpha)  # all steps: the product step
    if reference is not None:
        out["reference colours"] = reference
    return out


def edge_errors(
    colours: dict[str, np.ndarray], alpha: np.ndarray, true_b: np.ndarray, soft: np.ndarray
) -> dict[str, tuple[float, float]]:
    """MAE on B (soft zone, whole image) of each choice of colours, for one alpha."""
    a = alpha[..., None].astype(np.float64) / 255.0
    out = {}
    for name, rgb in colours.items():
        on_b = np.floor(a * rgb + (1 - a) * np.asarray(BACKGROUND_B) + 0.5)
        err = np.abs(on_b - true_b).mean(axis=2)
        out[name] = (float(err[soft].mean()), float(err.mean()))
    return out


def error_row(image: str, which: str, soft: np.ndarray, errors: dict) -> dict:
    """One table row: the step's errors under the old keys, every choice's soft error."""
    raw, dec = errors["as is"], errors["decontaminated"]
    row = {"image": image, "alpha": which, "soft_px": int(soft.sum()),
           "mae_soft_raw": raw[0], "mae_soft_decont": dec[0],
           "mae_all_raw": raw[1], "mae_all_decont": dec[1]}  # fmt: skip
    for name, (soft_err, _) in errors.items():
        row[f"soft:{name}"] = soft_err
    return row


def composite_case(rgb: np.ndarray, alpha: np.ndarray, fg: np.ndarray) -> tuple[np.ndarray, ...]:
    """Image on A (uint8), the true composite on B (float), from true colours ``fg``."""
    a = alpha[..., None].astype(np.float64) / 255.0
    on_a = np.clip(np.floor(a * fg + (1 - a) * np.asarray(BACKGROUND_A) + 0.5), 0, 255)
    on_b = np.floor(a * fg + (1 - a) * np.asarray(BACKGROUND_B) + 0.5)
    return on_a.astype(np.uint8), on_b


def quality(
    dataset: str, limit: int | None, max_side: int, figures: Path | None, use_model: bool
) -> list[dict]:
    """Edge errors on composites of icm58_objects, true alpha and (unless not) IS-Net's mask."""
    from pymatting import estimate_foreground_ml  # the bench extra

    data = load_dataset(dataset)  # a name under datasets_dir(), or a folder
    seg = Segmenter() if use_model else None
    rows = []
    for i, sample in enumerate(data):
        if limit is not None and i >= limit:
            break
        im = Image.fromarray(sample.image()[..., :3])
        scale = min(1.0, max_side / max(im.size))
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        rgb = np.asarray(im.resize(size, Image.Resampling.LANCZOS))
        matte = Image.fromarray(np.round(sample.mask() * 255).astype(np.uint8))
        alpha = np.asarray(matte.resize(size, Image.Resampling.LANCZOS))
        fg = estimate_foreground_ml(rgb / 255.0, alpha / 255.0) * 255.0
        on_a, true_b = composite_case(rgb, alpha, fg)
        masks = {"true alpha": alpha}
        if seg is not None:
            rgba = np.dstack([on_a, np.full(alpha.shape, 255, np.uint8)])
            masks["IS-Net mask"] = seg.mask(rgba)
        own = np.floor(np.clip(fg, 0, 255) + 0.5).astype(np.uint8)
        reference = np.where((alpha > 0)[..., None], own, on_a)
        for which, m in masks.items():
            soft = ((alpha > 0) & (alpha < 255)) | ((m > 0) & (m < 255))
            errors = edge_errors(edge_colours(on_a, m, reference), m, true_b, soft)
            rows.append(error_row(sample.stem, which, soft, errors))
        if figures is not None:
            edge_figure(on_a, alpha, true_b, figures / f"{sample.stem}-edges.png")
    return rows


def edge_figure(on_a: np.ndarray, alpha: np.ndarray, true_b: np.ndarray, path: Path) -> None:
    """Side by side at 100 %: true composite on B, raw edges, decontaminated edges."""
    ys, xs = np.nonzero((alpha > 20) & (alpha < 235))
    if len(ys) == 0:
        return
    k = len(ys) // 2
    cy, cx, r = int(ys[k]), int(xs[k]), 64
    y0, x0 = max(0, cy - r), max(0, cx - r)
    crop = (slice(y0, y0 + 2 * r), slice(x0, x0 + 2 * r))
    a = alpha[..., None] / 255.0
    raw = np.floor(a * on_a + (1 - a) * np.asarray(BACKGROUND_B) + 0.5)
    fixed = np.floor(
        a * estimate_foreground(on_a, alpha) + (1 - a) * np.asarray(BACKGROUND_B) + 0.5
    )
    tiles = [np.clip(t[crop], 0, 255).astype(np.uint8) for t in (true_b, raw, fixed)]
    gap = np.full((tiles[0].shape[0], 6, 3), 128, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.hstack([tiles[0], gap, tiles[1], gap, tiles[2]])).save(path)


def synthetic_quality(size: int) -> list[dict]:
    """Measure the same on a made image whose true foreground is known exactly."""
    rgba, alpha, fg = made_photo(size, size * 3 // 4, seed=3)
    on_a, true_b = composite_case(rgba[..., :3], alpha, fg)
    soft = (alpha > 0) & (alpha < 255)
    errors = edge_errors(edge_colours(on_a, alpha), alpha, true_b, soft)
    return [error_row("made-shape", "true alpha", soft, errors)]


# --- a job of many photos --------------------------------------------------------------


def job_check(count: int, folder: Path, preset_name: str) -> list[dict]:
    """``python -m segmentation remove --preset`` on ``count`` made photos: border, fill, re-run.

    The subject of a made photo is red on a blue-green background; on the output, a pixel
    counts as the subject where it is at least half as far from white as the subject's own
    colour (alpha 0.5, the step's level 128), so the measured share is comparable with the
    preset's ``fill``.
    """
    inputs = folder / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        w = int(rng.integers(900, 1600))
        h = int(rng.integers(700, 1300))
        rgba, _, _ = made_photo(w, h, seed=i)
        Image.fromarray(rgba[..., :3]).save(inputs / f"p{i:03d}.jpg", quality=92)
    out = folder / "out"
    cmd = [sys.executable, "-m", "segmentation", "remove", str(inputs), "-o", str(out),
           "--preset", preset_name]  # fmt: skip
    t0 = time.perf_counter()
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    t1 = time.perf_counter()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    t2 = time.perf_counter()
    spec = resolve_preset(preset_name)
    rows = []
    for path in sorted(out.glob(f"*{spec.suffix}")):
        px = np.asarray(Image.open(path).convert("RGB")).astype(int)
        border = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])
        far = 255 * 3 - px.sum(axis=2)  # distance from white, summed over channels
        subject = far >= 0.5 * np.percentile(far[far > 60], 90) if (far > 60).any() else far > 1e9
        ys, xs = np.nonzero(subject)
        share = (
            max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()) / px.shape[0] if len(ys) else 0.0
        )
        rows.append({"image": path.name, "border_min": int(border.min()), "fill": share})
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    statuses = sorted({m["status"] for m in manifest})
    summary = {
        "photos": count, "written": len(rows), "first_run_s": t1 - t0, "rerun_s": t2 - t1,
        "first_rc": first.returncode, "rerun_rc": again.returncode,
        "rerun_skipped": f"0 written, {count} up to date" in again.stdout,
        "border_min": min(r["border_min"] for r in rows) if rows else None,
        "fill_min": min(r["fill"] for r in rows) if rows else None,
        "fill_max": max(r["fill"] for r in rows) if rows else None,
        "target_fill": spec.fill, "manifest_statuses": ",".join(statuses),
    }  # fmt: skip
    return [summary, *rows]


# --- report ----------------------------------------------------------------------------


def table(rows: list[dict], columns: list[str]) -> str:
    """Format rows as a Markdown table."""

    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)) + " |"
              for r in cells]  # fmt: skip
    return "\n".join(lines)


def quality_summary(rows: list[dict]) -> list[dict]:
    """Sum up per alpha source and choice of colours.

    Soft-pixel-weighted errors, images made worse (at all, and by more than :data:`NOISE`),
    the largest rise and its image.
    """
    out = []
    choices = [k.removeprefix("soft:") for k in rows[0] if k.startswith("soft:")]
    for which in sorted({r["alpha"] for r in rows}):
        sel = [r for r in rows if r["alpha"] == which]
        soft = sum(r["soft_px"] for r in sel)
        raw = sum(r["mae_soft_raw"] * r["soft_px"] for r in sel) / max(1, soft)
        for name in choices:
            key = f"soft:{name}"
            err = sum(r[key] * r["soft_px"] for r in sel) / max(1, soft)
            rise, image = max((r[key] - r["mae_soft_raw"], r["image"]) for r in sel)
            out.append({"alpha": which, "colours": name, "images": len(sel), "soft_px": soft,
                        "mae_soft": err, "change_%": 100.0 * (err - raw) / raw if raw else 0.0,
                        "images_worse": sum(r[key] > r["mae_soft_raw"] for r in sel),
                        "worse_than_noise": sum(r[key] > r["mae_soft_raw"] + NOISE for r in sel),
                        "largest_increase": rise, "where": image if rise > 0 else ""})  # fmt: skip
    return out


def noise_summary(runs: dict[int, list[dict]]) -> list[dict]:
    """How much an image's rise (decontaminated minus as is) moves with the reduced size alone."""
    out = []
    by_key: dict[tuple[str, str], list[float]] = {}
    for rows in runs.values():
        for r in rows:
            rise = r["mae_soft_decont"] - r["mae_soft_raw"]
            by_key.setdefault((r["alpha"], r["image"]), []).append(rise)
    for which in sorted({k[0] for k in by_key}):
        spread = [max(v) - min(v) for (a, _), v in by_key.items() if a == which]
        out.append({"alpha": which, "sizes": ",".join(map(str, runs)), "images": len(spread),
                    "median_spread": float(np.median(spread)),
                    "p90_spread": float(np.percentile(spread, 90)),
                    "max_spread": max(spread)})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the chosen measurements and print their tables."""
    ap = parser("product", __doc__)
    ap.add_argument("--speed", action="store_true", help="time the step, kernel and browser")
    ap.add_argument("--quality", action="store_true", help="edge error on icm58 composites")
    ap.add_argument("--smoke", action="store_true", help="small and quick, no dataset (CI)")
    ap.add_argument("--size", default="4000x3000", help="speed photo WxH (default 12 MP)")
    ap.add_argument("--presets", nargs="+", default=["amazon", "shopify", "transparent"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--canvas", default=None, help="WxH instead of the presets' own canvas")
    ap.add_argument("--no-browser", action="store_true", help="kernel timings only")
    ap.add_argument("--limit", type=int, default=None, help="first N dataset images")
    ap.add_argument(
        "--dataset",
        default="icm58_objects",
        help=f"name under {datasets_dir()} ($PIXEL_LIBERATION_DATASETS) or a folder",
    )
    ap.add_argument("--max-side", type=int, default=1200, help="reduce dataset images first")
    ap.add_argument("--no-model", action="store_true", help="true alpha only (no IS-Net)")
    ap.add_argument(
        "--noise",
        action="store_true",
        help="with --quality: also at 0.96x and 1.04x --max-side; how far each image's rise moves",
    )
    ap.add_argument("--figures", type=Path, default=None, help="write edge crops here")
    ap.add_argument("--json", type=Path, default=None, help="also write every row here")
    ap.add_argument(
        "--job",
        type=int,
        default=None,
        metavar="N",
        help="run `remove --preset` on N made photos and check every output",
    )
    ap.add_argument("--job-preset", default="amazon")
    args = ap.parse_args(argv)
    if not (args.speed or args.quality or args.smoke or args.job):
        ap.error("choose --speed, --quality, --job N or --smoke")
    report: dict[str, Any] = {}
    if args.smoke:
        args.size, args.repeats, args.canvas = "800x600", 1, args.canvas or "500x500"
    if args.speed or args.smoke:
        w, h = (int(v) for v in args.size.split("x"))
        rgba, alpha, _ = made_photo(w, h)
        print(f"speed: {w}x{h} made photo ({w * h / 1e6:.1f} MP), mask given, median of "
              f"{args.repeats}", flush=True)  # fmt: skip
        rows = kernel_speed(rgba, alpha, args.presets, args.repeats, args.canvas)
        if not args.no_browser:
            rows += browser_speed(rgba, alpha, args.presets, args.repeats, args.canvas)
        cols = ["where", "preset", "canvas", "step_s", "encode_s", "total_s"]
        if not args.no_browser:
            cols.append("longest_main_thread_task_ms")
        print(table(rows, cols))
        report["speed"] = rows
    if args.smoke:
        rows = synthetic_quality(400)
    elif args.quality:
        rows = quality(args.dataset, args.limit, args.max_side, args.figures, not args.no_model)
        if args.noise:
            runs = {args.max_side: rows}
            for f in (0.96, 1.04):
                side = round(args.max_side * f)
                runs[side] = quality(args.dataset, args.limit, side, None, not args.no_model)
            report["noise"] = noise_summary(runs)
    else:
        rows = []
    if rows:
        print("\nedge error on background B, mean absolute error in 8-bit levels")
        print(table(rows, ["image", "alpha", "soft_px", "mae_soft_raw", "mae_soft_decont",
                           "mae_all_raw", "mae_all_decont"]))  # fmt: skip
        summary = quality_summary(rows)
        print(f"\ntotal (soft pixels weighted by count; worse than noise: by more than {NOISE})")
        print(table(summary, ["alpha", "colours", "images", "soft_px", "mae_soft", "change_%",
                              "images_worse", "worse_than_noise", "largest_increase",
                              "where"]))  # fmt: skip
        report["quality"] = rows
        report["quality_summary"] = summary
        if "noise" in report:
            print("\nnoise: how far each image's rise moves with the size alone (max - min)")
            print(table(report["noise"], list(report["noise"][0])))
    if args.job:
        with tempfile.TemporaryDirectory() as tmp:
            job, *images = job_check(args.job, Path(tmp), args.job_preset)
        print(f"\n`remove --preset {args.job_preset}` on {args.job} made photos")
        print(table([job], list(job)))
        report["job"] = [job, *images]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
