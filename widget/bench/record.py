"""Record browser vs kernel for notebook 03: one real JupyterLab run, every catalog precision.

Starts a JupyterLab whose pages are cross-origin isolated (the setting
``python -m widget threads on`` writes), opens one notebook in headless Chromium and,
in its kernel, runs :class:`widget.benchmark.BrowserBenchmark` on IS-Net's catalog
precisions once per WebAssembly thread count (the models cross the websocket
once and are cached in the browser's IndexedDB), then the same wrapped files with
onnxruntime in the kernel at 1 and 2 threads on the same pixels, and compares
every browser mask with the kernel's. The images are the first ``--limit`` photos of
each dataset, shrunk to a long side of 1024 as in ``bench``; each runs ``--repeats``
times and its latency is the fastest run (a browser session's first run also pays
for its warm-up, which the kernel does before timing). It writes a results
file (:mod:`segmentation.evaluation.record`; runtimes ``browser-tab-Nt`` and
``python-Nt``, one row per image with its parity) and prints the summary. Usage::

    .venv/bin/python -m widget.bench record                 # 2 + 2 photos
    .venv/bin/python -m widget.bench record --limit 1 --threads 1 --out /tmp/b.json

Run it on a quiet machine: latencies on a loaded one mean little (the file keeps
the load average at start and end).
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from segmentation.evaluation.record import git_commit, machine, versions, write_record
from segmentation.models.spec import DEFAULT_PRECISION
from widget.bench.harness import COMMAND, jupyter, open_notebook, parser
from widget.testing.chromium import chromium
from widget.testing.notebook import Notebook

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "notebooks" / "results" / "browser_vs_python.json"
DATASETS = ("sod_bsds300", "icm58_objects")

SETUP = """
import json, statistics, time
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.runner import PythonRuntime, entry_for
from segmentation.models.registry import default_registry
from segmentation.store import ensure_wrapped
from widget.benchmark import BrowserBenchmark

reg = default_registry()
entries = [entry_for(reg.get("isnet-general-use", p), p) for p in {precisions!r}]
images = [(f"{{d}}/{{s.stem}}", s.image()) for d in {datasets!r}
          for s in load_dataset(d, limit={limit}, max_side=1024)]
sizes = {{e.name: e.size_bytes for e in entries}}
print(len(entries), len(images))
"""

KERNEL = """
def kernel_rows(threads, repeats):
    out = []
    for e in entries:
        t0 = time.perf_counter()
        run = PythonRuntime(threads).load(ensure_wrapped(e.spec))
        load_s = time.perf_counter() - t0
        run(images[0][1])  # warm-up, as the browser's session creation is not timed in runs
        for name, px in images:
            lat = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                run(px)
                lat.append(time.perf_counter() - t0)
            out.append({"model": e.name, "image": name, "threads": threads, "load_s": load_s,
                        "inference_s": lat})
        del run
    return out
"""


def wait_done(nb: Notebook, var: str, timeout_s: float) -> None:
    """Poll the kernel until the benchmark widget ``var`` is done (or failed)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = nb.kernel_eval(f"[{var}.done, {var}.error, {var}.status]")
        if state[1]:
            raise RuntimeError(f"browser benchmark failed: {state[1]}")
        if state[0]:
            return
        time.sleep(2)
    raise TimeoutError(f"browser benchmark not done after {timeout_s:.0f} s: {state[2]}")


def summarise(images: list[dict[str, Any]], sizes: dict[str, int]) -> list[dict[str, Any]]:
    """One row per (variant, runtime): size, load, latency median/min, parity over images."""
    out = []
    keys = sorted({(r["variant"], r["runtime"]) for r in images}, key=lambda k: (k[1], k[0]))
    for variant, runtime in keys:
        rows = [r for r in images if r["variant"] == variant and r["runtime"] == runtime]
        lat = sorted(r["latency_s"] for r in rows)
        row = {
            "variant": variant, "runtime": runtime, "n": len(rows),
            "size_mb": sizes[variant] / 1e6, "load_s": rows[0]["load_s"],
            "latency_median_s": lat[len(lat) // 2] if len(lat) % 2 else
            (lat[len(lat) // 2 - 1] + lat[len(lat) // 2]) / 2,
            "latency_min_s": lat[0], "threads": rows[0]["threads"],
        }  # fmt: skip
        if "parity_iou" in rows[0]:
            row["parity_min_iou"] = min(r["parity_iou"] for r in rows)
            row["parity_max_abs"] = max(r["parity_max_abs"] for r in rows)
            row["parity_identical"] = sum(r["parity_differing"] == 0 for r in rows)
            row["pixels_match"] = all(r["pixels_match"] for r in rows)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark in JupyterLab, write the results file, print the summary."""
    ap = parser("record", __doc__)
    ap.add_argument("--limit", type=int, default=2, help="photos per dataset")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="wasm thread counts")
    ap.add_argument("--precisions", nargs="+", default=["fp32", "fp16", "int8", "int8-static"])
    ap.add_argument("--repeats", type=int, default=2,
                    help="timed runs per image; an image's latency is its fastest run (a "
                         "browser session's first run is slower)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    args = ap.parse_args(argv)
    argv_used = sys.argv[1:] if argv is None else argv
    meta: dict[str, Any] = {
        "command": f".venv/bin/{COMMAND} record {shlex.join(argv_used)}".rstrip(),
        "commit": git_commit(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "model": "isnet-general-use",
        "default_precision": DEFAULT_PRECISION,
        "datasets": [{"name": d, "n": args.limit} for d in DATASETS],
        "options": {"max_side": 1024, "repeats": args.repeats, "threads": args.threads},
    }
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        jupyter(Path(tmp) / "isolated", isolated=True) as server,
        chromium() as browser,
    ):
        setup = SETUP.format(precisions=args.precisions, datasets=DATASETS, limit=args.limit)
        cells = ["import widget", setup + KERNEL]
        for t in args.threads:  # one view per thread count, all in this notebook
            cells.append(f"b{t} = BrowserBenchmark(entries, images, repeats={args.repeats}, "
                         f"threads={t}, cache=True)\nb{t}")  # fmt: skip
        nb = open_notebook(browser, server, "record.ipynb", cells)
        nb.run_cell(0, timeout_s=300)
        nb.run_cell(1, timeout_s=900)
        sizes: dict[str, int] = nb.kernel_eval("sizes")
        meta["browser"] = f"Chromium {browser.version}"
        for i, t in enumerate(args.threads):
            var = f"b{t}"
            nb.run_cell(2 + i, timeout_s=300)
            print(f"browser, {t} thread(s): running", flush=True)
            wait_done(nb, var, args.timeout)
            got = nb.kernel_eval(f"{var}.rows()")
            parity = {(p["model"], p["image"]): p for p in nb.kernel_eval(
                f"{var}.compare_kernel(threads=2)", timeout_s=args.timeout)}  # fmt: skip
            for r in got:
                p = parity[(r["model"], r["image"])]
                rows.append({
                    "variant": r["model"], "runtime": f"browser-tab-{r['threads']}t",
                    "image": r["image"], "threads": r["threads"],
                    "load_s": r["session_create_s"], "inference_s": r["inference_s"],
                    "latency_s": min(r["inference_s"]), "pixels_match": r["pixels_match"],
                    "parity_iou": p["iou"], "parity_mae": p["mae"],
                    "parity_max_abs": p["max_abs_diff"],
                    "parity_differing": p["differing_pixels"],
                })  # fmt: skip
        for t in (1, 2):
            print(f"kernel, {t} thread(s): running", flush=True)
            for r in nb.kernel_eval(f"kernel_rows({t}, {args.repeats})", args.timeout):
                rows.append({
                    "variant": r["model"], "runtime": f"python-{t}t", "image": r["image"],
                    "threads": t, "load_s": r["load_s"], "inference_s": r["inference_s"],
                    "latency_s": min(r["inference_s"]),
                })  # fmt: skip
    meta["versions"] = versions({"browser": meta.pop("browser", "")})
    summary = summarise(rows, sizes)
    write_record(args.out, summary, rows, {**meta, "complete": True})
    cols = ["variant", "runtime", "n", "size_mb", "load_s", "latency_median_s",
            "parity_min_iou", "parity_max_abs", "parity_identical"]  # fmt: skip
    print("\t".join(cols))
    for s in summary:
        print("\t".join(f"{s.get(c):.3f}" if isinstance(s.get(c), float) else str(s.get(c, ""))
                        for c in cols))  # fmt: skip
    print(f"wrote {args.out}")
    print(json.dumps(meta["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
