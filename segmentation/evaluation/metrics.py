"""Mask quality: compare a predicted mask with ground truth or with a reference model's mask.

Masks are 2-D arrays of the same shape: ``uint8`` (0..255), ``bool`` or float
in 0..1; a soft reference counts as foreground where it is >= 0.5. IoU, MAE,
boundary IoU and the blank flag are computed here; the saliency measures
(max/mean F-beta, weighted F, S-measure, E-measure) come from
``pysodmetrics``, which min-max normalises each prediction as the SOD
literature does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

#: Names of the per-image measures returned by :func:`compare`, in table order.
METRICS = (
    "iou",
    "mae",
    "boundary_iou",
    "max_f",
    "mean_f",
    "weighted_f",
    "s_measure",
    "e_measure",
    "blank",
)


def as_unit(mask: np.ndarray) -> np.ndarray:
    """Return ``mask`` as float64 in 0..1 (uint8 is divided by 255)."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {m.shape}")
    if m.dtype == np.uint8:
        return m.astype(np.float64) / 255.0
    if m.dtype == bool:
        return m.astype(np.float64)
    m = m.astype(np.float64)
    if m.size and (m.min() < 0.0 or m.max() > 1.0):
        raise ValueError("a float mask must lie within 0..1")
    return m


def _check(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, r = as_unit(pred), as_unit(ref)
    if p.shape != r.shape:
        raise ValueError(f"mask shapes differ: prediction {p.shape}, reference {r.shape}")
    return p, r


def iou(pred: np.ndarray, ref: np.ndarray, threshold: float = 0.5) -> float:
    """Intersection over union of the two masks thresholded at ``threshold`` (both empty: 1)."""
    p, r = _check(pred, ref)
    a, b = p >= threshold, r >= threshold
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def mae(pred: np.ndarray, ref: np.ndarray) -> float:
    """Mean absolute difference in 0..1."""
    p, r = _check(pred, ref)
    return float(np.abs(p - r).mean())


def mask_difference(mask: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """IoU of two uint8 masks thresholded at 0.5, and MAE / max abs difference of the soft masks.

    Returns ``iou``, ``mae``, ``max_abs_diff`` (soft masks scaled to 0..1) and
    ``differing_pixels``; the masks must have the same shape. Used for parity
    (browser against kernel, one runtime against another).
    """
    if mask.shape != other.shape:
        raise ValueError(f"mask shapes differ: {mask.shape} vs {other.shape}")
    diff = np.abs(mask.astype(np.int16) - other.astype(np.int16))
    return {
        "iou": iou(mask, other),
        "mae": mae(mask, other),
        "max_abs_diff": float(diff.max() / 255.0),
        "differing_pixels": int(np.count_nonzero(diff)),
    }


def inner_band(mask: np.ndarray, width: float) -> np.ndarray:
    """Pixels of a binary ``mask`` within ``width`` pixels of its contour (not the image edge)."""
    # scipy: optional (not a dependency), only for boundary IoU
    from scipy.ndimage import distance_transform_edt

    padded = np.pad(mask, 1, constant_values=True)
    dist = distance_transform_edt(padded)[1:-1, 1:-1]
    return mask & (dist <= width)


def boundary_iou(
    pred: np.ndarray, ref: np.ndarray, threshold: float = 0.5, ratio: float = 0.02
) -> float:
    """Boundary IoU (Cheng et al. 2021): IoU of the masks' inner bands near their contours.

    The band width is ``ratio`` times the image diagonal (at least one pixel).
    Both bands empty gives 1.
    """
    p, r = _check(pred, ref)
    width = max(1.0, ratio * float(np.hypot(*p.shape)))
    a, b = inner_band(p >= threshold, width), inner_band(r >= threshold, width)
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def is_blank(pred: np.ndarray, *, spread: float = 0.1, area: float = 1e-3) -> bool:
    """Flag a failed mask: nearly constant, or (almost) no pixel or every pixel foreground.

    Parameters
    ----------
    pred : ndarray
        The mask.
    spread : float
        A mask whose values span less than this (in 0..1) is near-constant.
    area : float
        A foreground fraction below ``area`` or above ``1 - area`` is blank.

    """
    p = as_unit(pred)
    if p.size == 0 or float(p.max() - p.min()) < spread:
        return True
    fg = float((p >= 0.5).mean())
    return fg < area or fg > 1.0 - area


def _u8(mask: np.ndarray) -> np.ndarray:
    return np.round(as_unit(mask) * 255.0).astype(np.uint8)


def saliency_measures(pred: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Max/mean F-beta (beta^2 = 0.3), weighted F, S-measure and mean E-measure (pysodmetrics)."""
    # py_sod_metrics: the optional 'bench' extra, 0.9 s to import
    import py_sod_metrics as psm

    p, r = _u8(pred), _u8(ref)
    if p.shape != r.shape:
        raise ValueError(f"mask shapes differ: prediction {p.shape}, reference {r.shape}")
    fm = psm.FmeasureV2(
        metric_handlers={"f": psm.FmeasureHandler(with_adaptive=False, with_dynamic=True, beta=0.3)}
    )
    wfm, sm, em = psm.WeightedFmeasure(), psm.Smeasure(), psm.Emeasure()
    for m in (fm, wfm, sm, em):
        m.step(p, r)
    curve = np.asarray(fm.get_results()["f"]["dynamic"], dtype=np.float64)
    return {
        "max_f": float(curve.max()),
        "mean_f": float(curve.mean()),
        "weighted_f": float(wfm.get_results()["wfm"]),
        "s_measure": float(sm.get_results()["sm"]),
        "e_measure": float(np.mean(em.get_results()["em"]["curve"])),
    }


def compare(pred: np.ndarray, ref: np.ndarray, *, saliency: bool = True) -> dict[str, float]:
    """Every measure of :data:`METRICS` for one image (``blank`` is 1.0 or 0.0).

    With ``saliency=False`` the pysodmetrics measures are left out (faster).
    """
    out = {
        "iou": iou(pred, ref),
        "mae": mae(pred, ref),
        "boundary_iou": boundary_iou(pred, ref),
    }
    if saliency:
        out.update(saliency_measures(pred, ref))
    out["blank"] = float(is_blank(pred))
    return out


def aggregate(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each measure over images (NaN-free keys only; empty input gives {})."""
    rows = list(rows)
    if not rows:
        return {}
    keys = [k for k in rows[0] if all(k in r for r in rows)]
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}
