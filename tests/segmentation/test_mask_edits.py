"""Mask edit ops: numpy behaviour, and bit-for-bit parity with the TypeScript editor (node)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from segmentation import mask_edits

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js"


def blobs(h: int, w: int, seed: int) -> np.ndarray:
    """A soft mask with a few round objects (one with a hole) and soft edges."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w))
    for _ in range(4):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(4, min(h, w) / 3)
        out = np.maximum(out, np.clip((r - np.hypot(yy - cy, xx - cx)) / 3 + 0.5, 0, 1))
    ring = np.hypot(yy - h / 2, xx - w / 4)
    out = np.where((ring < 6) & (ring > 3), 1.0, out)
    out = np.where(ring <= 3, 0.0, out)
    return np.round(out * 255).astype(np.uint8)


def test_brush_hard_dot_matches_geometry() -> None:
    m = mask_edits.brush(np.zeros((20, 20), np.uint8), [10.0, 10.0], 4.0, 1.0, "add")
    yy, xx = np.mgrid[0:20, 0:20]
    expected = (xx + 0.5 - 10) ** 2 + (yy + 0.5 - 10) ** 2 <= 16
    np.testing.assert_array_equal(m == 255, expected)
    np.testing.assert_array_equal(m[~expected], 0)


def test_erase_mirrors_add_and_strokes_are_segment_unions() -> None:
    pts = [3.2, 4.1, 30.7, 9.9, 12.0, 18.5]
    add = mask_edits.brush(np.zeros((24, 40), np.uint8), pts, 3.5, 0.4, "add")
    erase = mask_edits.brush(np.full((24, 40), 255, np.uint8), pts, 3.5, 0.4, "erase")
    np.testing.assert_array_equal(erase, 255 - add)
    seg = mask_edits.brush(np.zeros((24, 40), np.uint8), pts[:4], 3.5, 0.4, "add")
    seg = mask_edits.brush(seg, pts[2:], 3.5, 0.4, "add")
    np.testing.assert_array_equal(seg, add)


def test_keep_and_remove_second_object() -> None:
    m = np.zeros((30, 60), np.uint8)
    m[5:20, 5:20] = 255
    m[5:20, 40:55] = 255
    m[4, 5:20] = 60  # soft edge of the first object
    kept = mask_edits.select_region(m, 10, 10, keep=True)
    assert kept[:, 30:].max() == 0 and kept[4, 10] == 60 and kept[10, 10] == 255
    removed = mask_edits.select_region(m, 10, 10, keep=False)
    assert removed[:, :30].max() == 0 and removed[10, 45] == 255
    np.testing.assert_array_equal(mask_edits.select_region(m, 30, 25, keep=True), m)


def test_components_labels_match_bruteforce() -> None:
    rng = np.random.default_rng(3)
    b = rng.random((23, 31)) > 0.45
    labels = mask_edits.components(b)
    # Brute force: neighbours share labels; distinct labels are never 4-adjacent.
    assert (labels[~b] == -1).all() and (labels[b] >= 0).all()
    same_h = b[:, 1:] & b[:, :-1]
    same_v = b[1:] & b[:-1]
    assert (labels[:, 1:][same_h] == labels[:, :-1][same_h]).all()
    assert (labels[1:][same_v] == labels[:-1][same_v]).all()
    seen = np.zeros_like(b)
    n = 0
    for y, x in zip(*np.nonzero(b), strict=True):
        if seen[y, x]:
            continue
        n += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < 23 and 0 <= nx < 31 and b[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
    assert n == len(np.unique(labels[b]))


def test_fill_holes_only_enclosed() -> None:
    m = np.zeros((20, 20), np.uint8)
    m[2:18, 2:18] = 255
    m[6:10, 6:10] = 0
    m[12:14, 0:5] = 0
    out = mask_edits.fill_holes(m)
    assert (out[6:10, 6:10] == 255).all() and (out[12:14, 2:5] == 0).all()


def test_feather_flat_and_symmetric() -> None:
    m = np.zeros((5, 21), np.uint8)
    m[:, :10] = 255
    out = mask_edits.feather(m, 2)
    assert out[0, 0] == 255 and out[0, 20] == 0 and 0 < out[0, 10] < 255
    assert int(out[0, 9]) + int(out[0, 10]) == 255


def test_load_roundtrip_and_replay_errors() -> None:
    m = blobs(17, 23, 1)
    op = mask_edits.encode_mask(m)
    np.testing.assert_array_equal(mask_edits.replay(np.zeros_like(m), [op]), m)
    with pytest.raises(mask_edits.MaskEditError, match="unknown edit op 'paint'"):
        mask_edits.replay(m, [{"op": "paint"}])
    with pytest.raises(mask_edits.MaskEditError, match="radius"):
        mask_edits.replay(m, [{"op": "brush", "mode": "add", "points": [1, 2], "radius": -1}])
    with pytest.raises(mask_edits.MaskEditError, match="outside"):
        mask_edits.replay(m, [{"op": "keep", "x": 500, "y": 2}])
    with pytest.raises(mask_edits.MaskEditError, match="4x4"):
        mask_edits.replay(m, [mask_edits.encode_mask(np.zeros((4, 4), np.uint8))])


# --- parity with the TypeScript ops ------------------------------------------------------


@pytest.fixture(scope="module")
def ts_replay(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Compile js/test/parity-cli.ts with esbuild; return a function that runs it in node."""
    node, esbuild = shutil.which("node"), JS / "node_modules" / ".bin" / "esbuild"
    if node is None or not esbuild.exists():
        pytest.fail("node and js/node_modules (npm ci in js/) are needed for the parity test")
    out = tmp_path_factory.mktemp("parity")
    cli = out / "parity-cli.mjs"
    subprocess.run(
        [str(esbuild), str(JS / "test" / "parity-cli.ts"), "--bundle", "--platform=node",
         "--format=esm", f"--outfile={cli}", "--log-level=warning"],
        check=True,
    )  # fmt: skip

    def run(model: np.ndarray, ops: list[dict[str, Any]], undo: int = 0) -> np.ndarray:
        h, w = model.shape
        case = out / "case.json"
        payload = {"width": w, "height": h, "ops": ops, "undo": undo}
        payload["model"] = base64.b64encode(model.tobytes()).decode()
        case.write_text(json.dumps(payload))
        subprocess.run([node, str(cli), str(case), str(out / "out.bin")], check=True)
        return np.frombuffer((out / "out.bin").read_bytes(), np.uint8).reshape(h, w)

    return run


def random_ops(rng: np.random.Generator, h: int, w: int, model: np.ndarray) -> list[dict]:
    ops: list[dict[str, Any]] = []
    for _ in range(14):
        kind = rng.choice(["brush", "brush", "brush", "keep", "remove", "fill", "feather",
                           "threshold", "invert", "reset", "load"])  # fmt: skip
        if kind == "brush":
            n = int(rng.integers(1, 6))
            pts = [round(float(v), 2) for v in rng.uniform(-5, [w + 5, h + 5], (n, 2)).ravel()]
            ops.append({"op": "brush", "mode": str(rng.choice(["add", "erase"])), "points": pts,
                        "radius": round(float(rng.uniform(0.5, 12)), 2),
                        "hardness": float(rng.choice([0.0, 0.37, 0.8, 1.0]))})  # fmt: skip
        elif kind in ("keep", "remove"):
            ops.append({"op": kind, "x": int(rng.integers(0, w)), "y": int(rng.integers(0, h))})
        elif kind == "feather":
            ops.append({"op": "feather", "radius": int(rng.choice([1, 2, 3, 4, 40]))})
        elif kind == "threshold":
            ops.append({"op": "threshold", "t": int(rng.integers(1, 255))})
        elif kind == "load":
            ops.append(mask_edits.encode_mask(blobs(h, w, int(rng.integers(0, 1000)))))
        else:
            ops.append({"op": str(kind)})
    return ops


@pytest.mark.parametrize("seed", range(6))
def test_typescript_and_numpy_agree_bit_for_bit(ts_replay: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(20, 90)), int(rng.integers(20, 120))
    model = blobs(h, w, seed)
    ops = random_ops(rng, h, w, model)
    for k in (len(ops), len(ops) // 2):  # the whole log, and half of it (prefix replay)
        expected = mask_edits.replay(model, ops[:k])
        np.testing.assert_array_equal(ts_replay(model, ops[:k]), expected)
    # Undo in TS (patches) equals numpy replay of the shorter log.
    np.testing.assert_array_equal(ts_replay(model, ops, undo=3), mask_edits.replay(model, ops[:-3]))
