"""Benchmark the many-image job: 1 process, the local pool and a Dask LocalCluster(2).

The same images go through :func:`segmentation.remove_many` (cutouts, default
model: IS-Net static int8) three ways, each in a fresh Python process so peak
memory is its own:

1. ``1 process``: the job in the client process (onnxruntime's default threads);
2. ``pool``: the local process pool (``--workers``, default every core), one
   single-threaded session per process;
3. ``dask``: a ``distributed.LocalCluster`` of 2 single-threaded workers.

It prints, per configuration: wall time of the job (engine start and model
loading included; the LocalCluster's own start is printed apart), images/s,
the median seconds one worker spent per image (hash, decode, model, encode,
write), the peak RSS of a worker process (``VmHWM`` of the process itself and of each Dask
worker, ``ru_maxrss`` of the pool's largest child) and of the client, and whether
every configuration wrote the same bytes. Usage::

    .venv/bin/python -m widget.bench scale [--images DIR|FILE ...] [--count 10] [--workers N]
        [--model-spec my-model.json]   # your own model instead of IS-Net

Default images: scikit-image's colour photos (``skimage/data``); e.g.
``--images ../shared/datasets/sod_bsds300/images`` for real-world photos.

Each configuration's process runs this file as a script, which imports only
:mod:`segmentation`: the widget's imports (``python -m widget.bench`` loads them) would count
in the client's peak and, through ``spawn``, in each pool worker's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from segmentation import remove_many
from segmentation.jobs.inputs import expand_inputs
from segmentation.jobs.manifest import ManifestRow
from segmentation.models.registry import builtin_registry
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION
from segmentation.models.spec_file import read_spec_file

SKIMAGE_PHOTOS = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "motorcycle_right.png", "hubble_deep_field.jpg", "ihc.png", "retina.jpg", "logo.png",
)  # fmt: skip
CONFIGS = ("1 process", "pool", "dask")
ROOT = Path(__file__).resolve().parents[2]


def default_images() -> list[str]:
    """scikit-image's colour photos (shipped in its wheel)."""
    import skimage  # a test dependency, only for the default image set

    data = Path(skimage.__file__).parent / "data"
    return [str(data / name) for name in SKIMAGE_PHOTOS if (data / name).is_file()]


def _mib(kib: float) -> float:
    return kib / 1024  # ru_maxrss and VmHWM are in KiB on Linux


def worker_peak_kib() -> int:
    """Peak RSS of the calling process (``VmHWM``), KiB: run on every Dask worker and here.

    Not ``ru_maxrss`` of ``RUSAGE_SELF``: Linux keeps the launcher's peak in it across
    ``exec``, so a process started by a bigger one would report the bigger one's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def model_kwargs(model_spec: Path | None) -> dict[str, Any]:
    """Return :func:`remove_many`'s model arguments: the default model, or the spec file's."""
    if model_spec is None:
        return {"model": DEFAULT_MODEL, "precision": DEFAULT_PRECISION}
    model_file, spec = read_spec_file(model_spec)
    registry = builtin_registry()
    spec = registry.register_file(model_file, spec)
    return {"model": spec.name, "precision": spec.precision, "registry": registry}


def run_one(
    config: str, images: list[str], workers: int, out: Path, model_spec: Path | None = None
) -> dict[str, Any]:
    """Run the job once in this process (a child of the script) and measure it."""
    first: list[float] = []

    def seen(row: ManifestRow) -> None:
        if not first:
            first.append(time.perf_counter())

    kw: dict[str, Any] = model_kwargs(model_spec)
    kw |= {"progress": True, "on_result": seen, "overwrite": True}
    cluster_start_s = 0.0
    if config == "dask":
        from distributed import Client, LocalCluster  # the optional 'cluster' extra

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
        client = Client(cluster)
        cluster_start_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = remove_many(images, out, cluster=client, **kw)
        wall = time.perf_counter() - t0
        peaks = client.run(worker_peak_kib)
        worker_kib = max(peaks.values())
        n_workers, threads = len(peaks), 1
        client.close()
        cluster.close()
    else:
        n_workers = 1 if config == "1 process" else workers
        t0 = time.perf_counter()
        rows = remove_many(images, out, workers=n_workers, **kw)
        wall = time.perf_counter() - t0
        # the pool's workers: ru_maxrss of the largest child; this process: its own VmHWM
        # (ru_maxrss of this process would start at its launcher's peak, kept across exec)
        worker_kib = (
            worker_peak_kib()
            if config == "1 process"
            else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        )
        threads = 0 if config == "1 process" else 1  # 0: onnxruntime's default
    done = [r for r in rows if r.status == "done"]
    per_image = sorted(r.seconds for r in done)
    return {
        "config": config,
        "workers": n_workers,
        "threads": threads,
        "images": len(done),
        "failed": len(rows) - len(done),
        "cluster_start_s": cluster_start_s,
        "wall_s": wall,
        "first_result_s": (first[0] - t0) if first else None,
        "per_image_s": per_image[len(per_image) // 2] if per_image else None,
        "worker_peak_mib": _mib(worker_kib),
        "client_peak_mib": _mib(worker_peak_kib()),
        "outputs": {Path(r.source).name: r.output_sha256 for r in done},
    }


def main(argv: list[str] | None = None) -> int:
    """Run each configuration in its own process and print the table."""
    ap = argparse.ArgumentParser(
        prog="python -m widget.bench scale", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--images", nargs="+", default=None, help="image files or folders")
    ap.add_argument("--count", type=int, default=10, help="first N images (default 10)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes of the local pool (default: every core)")  # fmt: skip
    ap.add_argument("--model-spec", type=Path, help="your own model (JSON) instead of ISNet")
    ap.add_argument("--config", choices=CONFIGS, help=argparse.SUPPRESS)  # child process
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    images = expand_inputs(args.images) if args.images else default_images()
    images = images[: args.count]
    if args.config:
        res = run_one(args.config, images, args.workers, args.out, args.model_spec)
        args.result.write_text(json.dumps(res))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for config in CONFIGS:
            result = Path(tmp) / "result.json"
            cmd = [sys.executable, __file__, "--config", config, "--result", str(result),
                   "--out", str(Path(tmp) / config.replace(" ", "-")), "--count", str(args.count),
                   "--workers", str(args.workers), *(["--images", *images])]  # fmt: skip
            if args.model_spec is not None:
                cmd += ["--model-spec", str(args.model_spec)]
            print(f"== {config}", file=sys.stderr)
            subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            results.append(json.loads(result.read_text()))
    same = all(r["outputs"] == results[0]["outputs"] for r in results)
    failed = sum(r["failed"] for r in results)
    kw = model_kwargs(args.model_spec)
    print(f"{len(images)} images, {kw['model']}:{kw['precision']}, {os.cpu_count()} cores")
    head = ["config", "workers x threads", "images", "wall s", "images/s", "s/image/worker",
            "worker peak MiB", "client peak MiB"]  # fmt: skip
    print("\t".join(head))
    for r in results:
        threads = "default" if r["threads"] == 0 else str(r["threads"])
        extra = f" (+{r['cluster_start_s']:.1f} s cluster start)" if r["cluster_start_s"] else ""
        print("\t".join([
            r["config"], f"{r['workers']} x {threads}", str(r["images"]),
            f"{r['wall_s']:.1f}{extra}", f"{r['images'] / r['wall_s']:.2f}",
            f"{r['per_image_s']:.2f}", f"{r['worker_peak_mib']:.0f}",
            f"{r['client_peak_mib']:.0f}",
        ]))  # fmt: skip
    print(f"same output bytes in every configuration: {'yes' if same else 'NO'}")
    if failed or not same:
        raise SystemExit(f"{failed} images failed; same outputs: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
