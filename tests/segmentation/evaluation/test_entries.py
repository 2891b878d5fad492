"""Planning a benchmark's entries: catalog precisions and recipes, calibration images left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.entries import plan_entries, without_calibration
from tests._images import red_dataset
from tests.conftest import TinyModel

pytestmark = pytest.mark.usefixtures("private_cache")


def test_calibration_images_are_left_out_of_the_measured_ones(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    """A recipe calibrated on a dataset's photos is not scored on those photos."""
    root = red_dataset(tmp_path / "red", 4)
    ds = load_dataset(root)
    calib = [s.image_path for s in ds.samples[2:]]
    plan = plan_entries("tiny-test", ["fp32"], ["int8-calibrated"], calib,
                        registry=tiny_model.registry)  # fmt: skip
    assert plan.kinds == {"fp32": "catalog", "int8-calibrated-entropy-pc": "recipe"}
    assert plan.calibration == tuple(calib)
    (kept,) = without_calibration([ds], plan)
    assert [s.stem for s in kept] == ["r0", "r1"]
    only = load_dataset(root).pick(["r2", "r3"])
    with pytest.raises(ValueError, match="every image is a calibration image"):
        without_calibration([only], plan)
    with pytest.raises(ValueError, match="has no image named nope"):
        ds.pick(["r0", "nope"])
