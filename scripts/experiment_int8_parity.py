"""Static int8 ISNet: native vs browser (WASM) outputs, with and without ``reduce_range``.

Builds two static QDQ int8 models from the fp32 ISNet (uint8 activations, int8
per-channel weights, MinMax calibration on scikit-image's sample photos), one
with ``reduce_range`` (7-bit weights) and one without; runs each natively
(onnxruntime, this CPU) and in onnxruntime-web WASM under Node on the same
preprocessed photos; prints the agreement, the one-thread WASM time next to
fp32/fp16 and, with ``--accuracy N``, IoU against ground truth on N images of
each research dataset. An experiment, not a product path: it informs whether a
static int8 default can keep browser/kernel parity.

Run: ``.venv/bin/python scripts/experiment_int8_parity.py --accuracy 10``; with
``--catalog 20`` it only measures the accuracy of the catalog's precisions (the
default ``int8-static`` among them) on 20 images of each dataset.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from matplotlib import cbook

from segmentation.evaluation.datasets import load_dataset, open_rgba
from segmentation.evaluation.metrics import iou
from segmentation.models.registry import default_registry
from segmentation.store import ensure_model
from segmentation.variants.calibration import ImageCalibrationReader, preprocess_model
from segmentation.variants.quantize import quantize_static_qdq
from segmentation.variants.wrapper import wrap_model, wrapped_feeds

NODE_RUN = Path(__file__).with_name("ort_web_node_run.mjs")
SIZE = (1024, 1024)


def photos() -> tuple[list[Path], list[Path]]:
    """Calibration photos (scikit-image) and test photos (matplotlib's portrait + the cat)."""
    data = resources.files("skimage") / "data"
    calib = [
        Path(str(data / n)) for n in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg")
    ]
    hopper = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return calib, [hopper, calib[2]]


def build(fp32: Path, dest: Path, calib: list[Path], reduce_range: bool) -> Path:
    """Quantize ``fp32`` to static QDQ int8 at ``dest``."""
    spec = default_registry().get("isnet-general-use", "fp32")
    reader = ImageCalibrationReader(spec, SIZE, calib)
    model = onnx.load(str(fp32))
    return quantize_static_qdq(model, dest, reader, method="minmax", reduce_range=reduce_range)


def unit(v: np.ndarray) -> np.ndarray:
    """Min-max normalise, as the wrapped graph does."""
    return (v - v.min()) / max(float(v.max() - v.min()), 1e-12)


def wasm_run(model: Path, x: Path, out: Path) -> tuple[np.ndarray, float]:
    """One onnxruntime-web run in Node; (output, milliseconds)."""
    res = subprocess.run(
        ["node", str(NODE_RUN), str(model), str(x), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return np.fromfile(out, np.float32), float(
        json.loads(res.stdout.strip().splitlines()[-1])["ms"]
    )


def parity(models: dict[str, Path], tests: list[Path], tmp: Path) -> None:
    """Native vs WASM agreement of each model on each test photo, and WASM time."""
    spec = default_registry().get("isnet-general-use", "fp32")
    pre = ort.InferenceSession(
        preprocess_model(spec, SIZE).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    print(f"{'model':<12} {'photo':<18} {'IoU':>8} {'MAE':>8} {'bit-equal':>9} {'wasm ms':>8}")
    for i, photo in enumerate(tests):
        x = pre.run(None, {"pixels": open_rgba(photo)})[0].astype(np.float32)
        xin = tmp / f"in{i}.f32"
        x.tofile(xin)
        for name, path in models.items():
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            native = sess.run(None, {sess.get_inputs()[0].name: x})[0].ravel()
            web, ms = wasm_run(path, xin, tmp / "out.f32")
            a, b = unit(native), unit(web)
            both, either = ((a > 0.5) & (b > 0.5)).sum(), ((a > 0.5) | (b > 0.5)).sum()
            same = bool(np.array_equal(native, web))
            mae = float(np.abs(a - b).mean())
            agree = both / max(either, 1)
            print(f"{name:<12} {photo.name:<18} {agree:8.5f} {mae:8.5f} {same!s:>9} {ms:8.0f}")


def accuracy(models: dict[str, Path], limit: int) -> None:
    """Mean IoU vs ground truth (and vs fp32) on ``limit`` images of each dataset, at 640 px."""
    spec = default_registry().get("isnet-general-use", "fp32")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sessions = {
        k: ort.InferenceSession(
            wrap_model(onnx.load(str(p)), spec).SerializeToString(),
            so,
            providers=["CPUExecutionProvider"],
        )
        for k, p in models.items()
    }
    for ds in ("icm58_objects", "sod_bsds300"):
        gt_iou: dict[str, list[float]] = {k: [] for k in sessions}
        ref_iou: dict[str, list[float]] = {k: [] for k in sessions}
        for sample in load_dataset(ds, limit=limit, max_side=640):
            px = sample.image()
            outs = {
                k: s.run(None, wrapped_feeds([i.name for i in s.get_inputs()], px))[0]
                for k, s in sessions.items()
            }
            gt = sample.mask(px.shape[:2])
            for k, out in outs.items():
                gt_iou[k].append(iou(out, gt))
                ref_iou[k].append(iou(out, outs["fp32"]))
        for k in sessions:
            gt, ref = np.mean(gt_iou[k]), np.mean(ref_iou[k])
            print(f"{ds:<14} {k:<12} IoU vs GT {gt:.4f}  vs fp32 {ref:.4f}")


def main() -> None:
    """Build, compare, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accuracy", type=int, default=0, help="images per dataset (0: skip)")
    ap.add_argument(
        "--catalog",
        type=int,
        default=0,
        metavar="N",
        help="only compare the catalog's four precisions on N images per dataset",
    )
    args = ap.parse_args()
    registry = default_registry()
    if args.catalog:
        precisions = ("fp32", "int8-static", "fp16", "int8")
        accuracy(
            {p: ensure_model(registry.get("isnet-general-use", p)) for p in precisions},
            args.catalog,
        )
        return
    fp32 = ensure_model(registry.get("isnet-general-use", "fp32"))
    fp16 = ensure_model(registry.get("isnet-general-use", "fp16"))
    calib, tests = photos()
    with tempfile.TemporaryDirectory(prefix="pl-int8-parity-") as t:
        tmp = Path(t)
        print("building static int8 models (about 30 s each) ...", flush=True)
        static = {
            "static": build(fp32, tmp / "static.onnx", calib, reduce_range=False),
            "static-rr": build(fp32, tmp / "static-rr.onnx", calib, reduce_range=True),
        }
        parity({"fp32": fp32, "fp16": fp16, **static}, tests, tmp)
        if args.accuracy:
            accuracy({"fp32": fp32, **static}, args.accuracy)


if __name__ == "__main__":
    main()
