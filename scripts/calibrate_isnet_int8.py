"""Measure the activation ranges the default static int8 IS-Net is quantized with.

Runs MinMax calibration of the fp32 IS-Net (every tensor; the recipe leaves the
output head in float) on scikit-image's sample photos, fed through the wrapper's own
preprocessing, and writes ``segmentation/data/isnet-general-use.int8-ranges.json``.
The package ships that file, so users build the int8 model without images. Rerun
only to change the calibration set; then rebuild with
``python -m segmentation fetch`` and rerun the parity and accuracy tests.

Run: ``.venv/bin/python scripts/calibrate_isnet_int8.py`` (needs the ``test`` extra);
``--out PATH --photos 1`` writes elsewhere from the first photo only (a smoke run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from importlib import resources
from pathlib import Path

from segmentation.conversion.calibration import ImageCalibrationReader
from segmentation.conversion.convert import prepare_float
from segmentation.conversion.int8_static import RANGES_FORMAT, calibrate_ranges, ranges_path
from segmentation.files import atomic_path
from segmentation.models.integrity import load_checked, sha256_file
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL
from segmentation.store import ensure_model

#: Public-domain / CC0 photos shipped inside scikit-image's wheel.
PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg")


def main() -> None:
    """Calibrate and write the ranges file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ranges_path(DEFAULT_MODEL))
    ap.add_argument("--photos", type=int, default=len(PHOTOS), help="use the first N photos")
    args = ap.parse_args()
    if not 1 <= args.photos <= len(PHOTOS):
        ap.error(f"--photos must be 1..{len(PHOTOS)}, got {args.photos}")
    spec = default_registry().get(DEFAULT_MODEL, "fp32")
    src = ensure_model(spec, progress=True)
    model = prepare_float(load_checked(src), spec)
    data = resources.files("skimage") / "data"
    images = [Path(str(data / name)) for name in PHOTOS[: args.photos]]
    print(f"calibrating on {len(images)} photos (about 10 s each) ...", flush=True)
    ranges = calibrate_ranges(model, ImageCalibrationReader(spec, spec.input_size, images))
    doc = {
        "format": RANGES_FORMAT,
        "model": spec.key,
        "source_sha256": sha256_file(src),
        "method": "minmax",
        "calibration": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in images},
        "ranges": ranges,
    }
    with atomic_path(args.out) as tmp:  # an interrupted run leaves the shipped file as it was
        tmp.write_text(json.dumps(doc, indent=0) + "\n")
    print(f"wrote {len(ranges)} ranges to {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
