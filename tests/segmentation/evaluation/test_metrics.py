"""Mask metrics on small synthetic arrays with hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.evaluation.metrics import (
    aggregate,
    as_unit,
    boundary_iou,
    compare,
    inner_band,
    iou,
    is_blank,
    mae,
    saliency_measures,
)


def _square(size: int = 40, lo: int = 10, hi: int = 30) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    m[lo:hi, lo:hi] = 255
    return m


def test_iou_and_mae_by_hand() -> None:
    gt = _square()  # 20 x 20 = 400 pixels
    half = np.zeros_like(gt)
    half[10:30, 10:20] = 255  # 200 pixels, all inside
    assert iou(half, gt) == pytest.approx(200 / 400)
    assert mae(half, gt) == pytest.approx(200 / 1600)
    shifted = np.zeros_like(gt)
    shifted[15:35, 10:30] = 255  # overlap 15 x 20 = 300, union 500
    assert iou(shifted, gt) == pytest.approx(300 / 500)
    soft = np.full((2, 2), 0.25)
    assert mae(soft, np.array([[0.0, 1.0], [0.0, 1.0]])) == pytest.approx(0.5)
    assert iou(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0  # both empty


def test_iou_threshold_and_float_masks() -> None:
    pred = np.array([[0.49, 0.5], [0.9, 0.1]])
    ref = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert iou(pred, ref) == pytest.approx(1 / 3)  # inter {0,1}; union {0,0},{0,1},{1,0}
    assert iou(pred, ref, threshold=0.05) == pytest.approx(2 / 4)


def test_boundary_iou_by_hand() -> None:
    gt = _square()  # width = max(1, 0.02 * hypot(40, 40)) = 1.13: one-pixel rings
    assert inner_band(gt > 0, 1.13).sum() == 76  # 4 * 20 - 4
    half = np.zeros_like(gt)
    half[10:30, 10:20] = 255  # ring of 56; shared: left side 20 + top/bottom 9 + 9 = 38
    assert boundary_iou(half, gt) == pytest.approx(38 / (76 + 56 - 38))
    assert boundary_iou(gt, gt) == 1.0


def test_blank_flag() -> None:
    assert is_blank(np.zeros((8, 8), np.uint8))
    assert is_blank(np.full((8, 8), 128, np.uint8))  # constant grey
    noisy = np.full((50, 50), 0.02)
    noisy[0, 0] = 0.6  # one pixel of 2500 (0.04 %) is foreground
    assert is_blank(noisy)
    assert not is_blank(_square())
    assert is_blank(255 - np.zeros((50, 50), np.uint8))  # everything foreground


def test_saliency_measures_perfect_and_half() -> None:
    gt = _square()
    perfect = saliency_measures(gt, gt)
    for k in ("max_f", "weighted_f", "s_measure"):
        assert perfect[k] == pytest.approx(1.0, abs=1e-6)
    assert perfect["e_measure"] == pytest.approx(1.0, abs=0.01)
    half = np.zeros_like(gt)
    half[10:30, 10:20] = 255
    # Precision 1, recall 0.5 at every threshold: F = 1.3 * 0.5 / (0.3 + 0.5) = 0.8125.
    assert saliency_measures(half, gt)["max_f"] == pytest.approx(0.8125)
    assert saliency_measures(half, gt)["s_measure"] < perfect["s_measure"]


def test_compare_and_aggregate() -> None:
    gt = _square()
    row = compare(gt, gt)
    assert row["iou"] == 1.0 and row["mae"] == 0.0 and row["blank"] == 0.0
    fast = compare(np.zeros_like(gt), gt, saliency=False)
    assert "max_f" not in fast and fast["blank"] == 1.0 and fast["iou"] == 0.0
    mean = aggregate([{"iou": 1.0, "mae": 0.0}, {"iou": 0.5, "mae": 0.2}])
    assert mean == pytest.approx({"iou": 0.75, "mae": 0.1})
    assert aggregate([]) == {}


def test_bad_masks_are_refused() -> None:
    with pytest.raises(ValueError, match="2-D"):
        as_unit(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        as_unit(np.array([[2.0]]))
    with pytest.raises(ValueError, match="shapes differ"):
        iou(np.zeros((2, 2)), np.zeros((3, 3)))
