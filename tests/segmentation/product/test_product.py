"""The product-photo step in the kernel, and its parity with the TypeScript step in node.

Geometry is checked against hand-worked cases shared with the node tests
(``tests/data/product-geometry.json``); the subject box against scipy's labelling; the
foreground estimate against a plain full-canvas reference (``tests/product_reference.py``);
the whole step, per preset, with and without shadow, against ``js/src/product`` run in node.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms
from scipy import ndimage

from segmentation.images import load_image
from segmentation.product.colour import to_srgb
from segmentation.product.compose import over, product_pixels
from segmentation.product.decontaminate import edge_estimate, estimate_foreground, refine
from segmentation.product.encode import encode
from segmentation.product.framing import NoSubjectError, plan_frame, resample, subject_box
from segmentation.product.presets import (
    BUILTIN,
    SOURCES,
    load_presets,
    panel_presets,
    resolve_preset,
)
from segmentation.product.shadow import box_widths, shadow_alpha
from segmentation.product.spec import ProductSpec, ProductSpecError, spec_from_dict
from segmentation.session import product_photo
from tests._icc import display_profile, p3_to_srgb
from tests.product_reference import foreground

ROOT = Path(__file__).resolve().parents[3]
CASES = json.loads((ROOT / "tests" / "data" / "product-geometry.json").read_text())


def scene(h: int, w: int, seed: int, soft: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """A textured photo with a soft-edged disc (the subject) and its mask."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 4), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    img[..., 0] = (xx * 255 // max(1, w - 1)).astype(np.uint8)
    img[..., 1] = rng.integers(0, 256, (h, w), dtype=np.uint8)
    img[..., 2] = (yy * 255 // max(1, h - 1)).astype(np.uint8)
    img[..., 3] = 255
    cx, cy = rng.uniform(0.35, 0.65) * w, rng.uniform(0.35, 0.65) * h
    r = rng.uniform(0.15, 0.3) * min(h, w)
    d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy) - r
    mask = np.clip(128 - d * soft, 0, 255).astype(np.uint8)
    return img, mask


# --- presets and validation ------------------------------------------------------------


def test_every_builtin_preset_has_its_source_and_round_trips() -> None:
    assert set(BUILTIN) == set(SOURCES) == {"amazon", "shopify", "transparent"}
    for name, spec in BUILTIN.items():
        assert spec.name == name and len(SOURCES[name]) > 40
        assert spec_from_dict(spec.to_dict()) == spec
    amazon = BUILTIN["amazon"]
    assert amazon.background == (255, 255, 255, 255) and amazon.fill == 0.85
    assert max(amazon.canvas or (0, 0)) >= 1600 and amazon.format == "jpeg"
    assert BUILTIN["shopify"].canvas == (2048, 2048)


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("ebay", {}, "unknown preset 'ebay'; known: amazon, shopify, transparent"),
        ("transparent", {"margin": "-1%"}, "margin: -1% is below 0"),
        ("transparent", {"margin": "50%"}, "below 50% of the subject"),
        ("amazon", {"canvas": "0x10"}, "canvas: 0 is outside 1..16384"),
        ("amazon", {"colour": "red"}, "unknown product setting 'colour'"),
        ("amazon", {"fill": 1.5}, r"fill: 1.5 must be in \(0, 1\]"),
        ("transparent", {"format": "jpeg"}, "JPEG has no transparency"),
        ("amazon", {"shadow": {"blur": 2, "spread": 1}}, "unknown field 'spread'"),
        ("amazon", {"background": "not-a-colour"}, "unknown colour"),
        ("amazon", {"quality": 0}, "quality: 0 is outside 1..100"),
    ],
)
def test_bad_settings_are_one_line_errors(preset: str, overrides: dict, message: str) -> None:
    with pytest.raises(ProductSpecError, match=message) as err:
        resolve_preset(preset, **overrides)
    assert "\n" not in str(err.value)


def test_overrides_replace_what_they_conflict_with() -> None:
    spec = resolve_preset("amazon", margin="10%")  # a margin replaces the fill
    assert spec.fill is None and spec.margin.value == 10 and spec.canvas == (2000, 2000)
    spec = resolve_preset("transparent", fill=0.9, aspect="4:5")
    assert spec.margin.value == 0 and spec.aspect == (4, 5)
    assert resolve_preset("amazon", aspect="1:1").canvas is None


def test_user_presets_from_a_file(tmp_path: Path) -> None:
    f = tmp_path / "mine.json"
    f.write_text(json.dumps({"presets": {
        "etsy": {"extends": "amazon", "canvas": [2700, 2025], "fill": 0.8},
        "etsy-grey": {"extends": "etsy", "background": "#eeeeee", "shadow": True},
    }}))  # fmt: skip
    user = load_presets(f)
    assert user["etsy"].canvas == (2700, 2025) and user["etsy"].format == "jpeg"
    assert user["etsy-grey"].background == (238, 238, 238, 255)
    assert user["etsy-grey"].shadow is not None and user["etsy-grey"].fill == 0.8
    assert resolve_preset("etsy-grey", user=user) == user["etsy-grey"]
    f.write_text(json.dumps({"presets": {"x": {"extends": "nope"}}}))
    with pytest.raises(ProductSpecError, match="extends unknown preset 'nope'"):
        load_presets(f)
    f.write_text("{not json")
    with pytest.raises(ProductSpecError, match="not JSON"):
        load_presets(f)
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"extends": "shopify", "quality": 70}))
    assert resolve_preset(single).quality == 70 and resolve_preset(single).name == "one"


def test_panel_presets_are_json_the_worker_accepts(tmp_path: Path) -> None:
    user = {"mine": resolve_preset("amazon", canvas="800x800")}
    listed = json.loads(json.dumps(panel_presets(user)))
    assert [p["name"] for p in listed] == ["amazon", "shopify", "transparent", "mine"]
    assert listed[0]["note"] == SOURCES["amazon"] and listed[3]["note"] == "your preset"
    assert spec_from_dict(listed[3]["spec"]) == user["mine"]


def test_digest_follows_the_settings_not_the_name() -> None:
    a = BUILTIN["amazon"]
    assert a.digest == a.replace(name="other").digest
    assert a.digest != a.replace(quality=91).digest


# --- geometry (shared cases) -----------------------------------------------------------


@pytest.mark.parametrize("case", CASES["frames"], ids=lambda c: c["note"][:40])
def test_frames_match_the_shared_cases(case: dict[str, Any]) -> None:
    spec = spec_from_dict(case["spec"])
    if "error" in case:
        with pytest.raises(ProductSpecError, match=case["error"]):
            plan_frame(tuple(case["box"]), spec, CASES["max_pixels"])
        return
    f = plan_frame(tuple(case["box"]), spec, CASES["max_pixels"])
    assert {k: getattr(f, k) for k in case["frame"]} == case["frame"]


@pytest.mark.parametrize("case", CASES["boxes"], ids=lambda c: c["note"][:40])
def test_subject_boxes_match_the_shared_cases(case: dict[str, Any]) -> None:
    mask = np.array([[255 if ch == "#" else 0 for ch in row] for row in case["mask"]], np.uint8)
    if "error" in case:
        with pytest.raises(NoSubjectError, match=case["error"]):
            subject_box(mask, case["min_part"])
        return
    assert subject_box(mask, case["min_part"]) == tuple(case["box"])


@pytest.mark.parametrize("seed", range(8))
def test_subject_box_agrees_with_scipy_labelling(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = rng.integers(20, 120, 2)
    noise = ndimage.uniform_filter(rng.random((h, w)), 3)
    mask = np.where(noise > np.quantile(noise, 0.8), 200, 10).astype(np.uint8)
    labels, n = ndimage.label(mask >= 128, structure=np.ones((3, 3)))
    areas = np.bincount(labels.ravel())[1:]
    keep = np.isin(labels, 1 + np.nonzero(areas >= 0.3 * areas.max())[0])
    ys, xs = np.nonzero(keep)
    expected = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert n > 1 and subject_box(mask, 0.3) == expected


def test_resample_at_scale_one_copies_pixels_and_zeroes_alpha_outside() -> None:
    img, mask = scene(60, 80, 1)
    img[..., 3] = mask
    spec = spec_from_dict({"margin": "40%"})
    box = subject_box(mask, 0.0)
    frame = plan_frame(box, spec, 10**8)
    out = resample(img, frame)
    x0, y0, x1, y1 = box
    sub = out[frame.oy : frame.oy + y1 - y0, frame.ox : frame.ox + x1 - x0]
    np.testing.assert_array_equal(sub, img[y0:y1, x0:x1])
    # the canvas reaches beyond the photo's edges: no subject there
    big = plan_frame((0, 0, 80, 60), spec_from_dict({"margin": "40%"}), 10**8)
    out = resample(img, big)
    assert out[0, 0, 3] == 0 and out[-1, -1, 3] == 0


def test_shrinking_a_flat_photo_keeps_it_flat_and_alpha_adds_up() -> None:
    img = np.full((90, 130, 4), (10, 200, 90, 255), np.uint8)
    for scale_canvas in ((37, 23), (64, 64), (300, 250)):
        f = plan_frame((0, 0, 130, 90), spec_from_dict({"canvas": list(scale_canvas),
                                                         "fill": 1.0}), 10**8)  # fmt: skip
        out = resample(img, f)
        inside = out[..., 3] == 255
        assert inside.sum() > 0.9 * (130 * f.scale) * (90 * f.scale)
        assert (out[inside][:, :3] == (10, 200, 90)).all()


# --- decontamination, shadow, layers ---------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_foreground_estimate_equals_the_plain_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(30, 260, 2))
    img, mask = scene(h, w, seed, soft=float(rng.uniform(2, 40)))
    got = estimate_foreground(img[..., :3].copy(), mask)
    np.testing.assert_array_equal(got, foreground(img[..., :3], mask))
    np.testing.assert_array_equal(got[(mask == 0) | (mask == 255)],
                                  img[..., :3][(mask == 0) | (mask == 255)])  # fmt: skip


def test_decontamination_recovers_the_subject_colour_at_soft_edges() -> None:
    h, w = 200, 240
    _, alpha = scene(h, w, 5, soft=25.0)
    fg = np.zeros((h, w, 3), np.float64)
    fg[...] = (230, 40, 40)  # a red subject
    bg = np.zeros((h, w, 3), np.float64)
    bg[...] = (20, 160, 30)  # on green
    a = alpha[..., None] / 255.0
    observed = np.floor(a * fg + (1 - a) * bg + 0.5).astype(np.uint8)
    est = estimate_foreground(observed, alpha)
    edge = (alpha > 25) & (alpha < 230)
    raw_err = np.abs(observed[edge].astype(float) - fg[edge]).mean()
    est_err = np.abs(est[edge].astype(float) - fg[edge]).mean()
    assert edge.sum() > 200 and est_err < 0.1 * raw_err, (raw_err, est_err)


def test_a_mask_softer_than_the_subject_keeps_the_colours_it_cannot_explain() -> None:
    # a sharp-edged dark subject with a light body just inside, on green; the mask's soft band
    # (as a model's often is) reaches into the dark rim and out over the green: no pixel
    # mixes two colours, so a correct estimate changes nothing
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot(xx - 80.0, yy - 60.0) - 40.0  # the true edge at d = 0
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = (30, 190, 60)
    rgb[d < 0] = (40, 35, 30)  # dark rim
    rgb[d < -5] = (215, 205, 200)  # light body
    mask = np.clip(128 - d * 20, 0, 255).astype(np.uint8)  # soft from d = -6 to +6
    est = edge_estimate(rgb, mask)
    assert est is not None and len(est.ys) > 2000

    def shown(f: np.ndarray) -> float:
        """Mean change on any new background: alpha times the change of colour."""
        return float((np.abs(f - est.image).mean(axis=1) * est.alpha).mean())

    # plain blur-fusion paints the light body into the rim and over the green...
    assert shown(refine(est, consistent_alpha=False, unmix=False, guard=False)) > 15
    # ...the guarded estimate keeps (nearly) what the pixels show
    assert shown(refine(est)) < 3


def test_box_widths_approximate_the_gaussian_variance() -> None:
    for sigma in (0.7, 2.0, 5.3, 17.0, 60.0):
        widths = box_widths(sigma)
        assert all(wd % 2 == 1 for wd in widths)
        variance = sum((wd * wd - 1) / 12 for wd in widths)
        assert abs(variance**0.5 - sigma) < 0.6, (sigma, widths)
    assert box_widths(0.2) == [1, 1, 1]


def test_shadow_equals_a_direct_blur_and_sits_below_the_subject() -> None:
    alpha = np.zeros((120, 100), np.uint8)
    alpha[30:70, 35:65] = 255
    spec = spec_from_dict({"canvas": [100, 120], "fill": 0.5, "shadow": {
        "offset_x": 0, "offset_y": 10, "blur": 5, "opacity": 0.5}})  # fmt: skip
    frame = plan_frame((35, 30, 65, 70), spec, 10**8)
    assert spec.shadow is not None
    shade = shadow_alpha(alpha, frame, spec.shadow)
    moved = np.zeros((120, 100), np.int64)
    dy = round(10 * frame.subject_size[1] / 100)
    moved[dy:] = alpha[: 120 - dy]
    widths = box_widths(5 * frame.subject_size[1] / 100)
    direct = moved
    for axis in (1, 0):
        for wd in widths:
            k = np.ones(wd, np.int64)
            direct = np.apply_along_axis(
                lambda v, k=k: np.convolve(v, k, mode="same"), axis, direct
            )
        total = int(np.prod(widths))
        direct = (2 * direct + total) // (2 * total)
    np.testing.assert_array_equal(shade, np.floor(0.5 * direct + 0.5).astype(np.uint8))
    assert shade[75, 50] > shade[25, 50]  # more shadow under the subject than above it


def test_over_matches_the_float_formula() -> None:
    rng = np.random.default_rng(0)
    dst = rng.integers(0, 256, (50, 50, 4), dtype=np.uint8)
    src = rng.integers(0, 256, (50, 50, 3), dtype=np.uint8)
    sa = rng.integers(0, 256, (50, 50), dtype=np.uint8)
    sa[:10] = 0
    sa[10:20] = 255
    out = over(dst, src, sa).astype(float)
    s, d = sa[..., None] / 255.0, dst[..., 3:4] / 255.0
    ao = s + d * (1 - s)
    co = np.where(ao > 0, (src * s + dst[..., :3] * d * (1 - s)) / np.maximum(ao, 1e-12), 0)
    assert np.abs(out[..., :3] - co).max() <= 0.5 + 1e-9
    assert np.abs(out[..., 3] - ao[..., 0] * 255).max() <= 0.5 + 1e-9


# --- the whole step ----------------------------------------------------------------------


def test_amazon_photo_is_white_at_the_border_and_filled_to_85_percent() -> None:
    img, mask = scene(300, 420, 3, soft=200.0)  # an edge about a pixel wide, like a model's
    spec = resolve_preset("amazon", canvas=[600, 600])
    result = product_pixels(img, mask, spec)
    px = result.pixels
    assert px.shape == (600, 600, 4) and (px[..., 3] == 255).all()
    for edge in (px[0], px[-1], px[:, 0], px[:, -1]):
        assert (edge[:, :3] == 255).all()
    # the subject as the step defines it (alpha >= 128), measured on the output's alpha
    clear = product_pixels(img, mask, spec.replace(background=(0, 0, 0, 0), format="png"))
    ys, xs = np.nonzero(clear.pixels[..., 3] >= 128)
    measured = max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()) / 600
    assert abs(measured - 0.85) < 0.01 and abs(result.fill - 0.85) < 1e-9
    ys, xs = np.nonzero(np.abs(px[..., :3].astype(int) - 255).max(axis=2) > 8)  # visible
    assert abs(max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()) / 600 - 0.85) < 0.02
    data = encode(px, spec)
    assert data[:3] == b"\xff\xd8\xff"


def test_empty_mask_is_no_subject() -> None:
    img, _ = scene(40, 40, 0)
    with pytest.raises(NoSubjectError, match="no subject found"):
        product_pixels(img, np.zeros((40, 40), np.uint8), BUILTIN["amazon"])


def test_transparent_preset_keeps_alpha_and_writes_rgba_png() -> None:
    img, mask = scene(120, 160, 2)
    spec = BUILTIN["transparent"]
    px = product_pixels(img, mask, spec).pixels
    assert px[0, 0, 3] == 0 and px[px.shape[0] // 2, px.shape[1] // 2, 3] == 255
    data = encode(px, spec)
    back = np.asarray(Image.open(__import__("io").BytesIO(data)))
    assert back.shape[2] == 4
    np.testing.assert_array_equal(back, px)


# --- parity with the TypeScript step (node) ----------------------------------------------


@pytest.fixture(scope="module")
def ts_product(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Compile js/test/product-cli.ts with esbuild; return a function that runs it in node."""
    node, esbuild = shutil.which("node"), ROOT / "js" / "node_modules" / ".bin" / "esbuild"
    if node is None or not esbuild.exists():
        pytest.fail("node and js/node_modules (npm ci in js/) are needed for the parity test")
    out = tmp_path_factory.mktemp("product-parity")
    cli = out / "product-cli.mjs"
    subprocess.run(
        [str(esbuild), str(ROOT / "js" / "test" / "product-cli.ts"), "--bundle",
         "--platform=node", "--format=esm", f"--outfile={cli}", "--log-level=warning"],
        check=True,
    )  # fmt: skip

    def run(img: np.ndarray, mask: np.ndarray, spec: ProductSpec | dict,
            background: np.ndarray | None = None) -> tuple[np.ndarray | None, dict]:  # fmt: skip
        b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()  # noqa: E731
        case: dict[str, Any] = {
            "width": img.shape[1],
            "height": img.shape[0],
            "pixels": b64(img),
            "mask": b64(mask),
            "spec": spec.to_dict() if isinstance(spec, ProductSpec) else spec,
        }
        if background is not None:
            case["background"] = {"width": background.shape[1], "height": background.shape[0],
                                  "pixels": b64(background)}  # fmt: skip
        (out / "case.json").write_text(json.dumps(case))
        done = subprocess.run([node, str(cli), str(out / "case.json"), str(out / "out.bin")],
                              capture_output=True, text=True, check=True)  # fmt: skip
        info = json.loads(done.stdout)
        if "error" in info:
            return None, info
        f = info["frame"]
        px = np.frombuffer((out / "out.bin").read_bytes(), np.uint8)
        return px.reshape(f["height"], f["width"], 4), info

    return run


def parity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels whose every channel agrees within one level."""
    return float((np.abs(a.astype(int) - b).max(axis=2) <= 1).mean())


PARITY_SPECS = [
    ("amazon", {"canvas": [300, 300]}),
    ("shopify", {"canvas": [256, 320]}),
    ("transparent", {}),
    (
        "amazon",
        {
            "canvas": [240, 180],
            "shadow": {"offset_x": -3, "offset_y": 4, "blur": 6, "opacity": 0.6},
        },
    ),
    ("shopify", {"canvas": [200, 200], "shadow": None, "position": "bottom", "floor": "8%"}),
    ("transparent", {"shadow": True, "aspect": [4, 5]}),
    ("amazon", {"canvas": [500, 500], "decontaminate": False}),
]


@pytest.mark.parametrize(("preset", "overrides"), PARITY_SPECS)
def test_typescript_step_gives_the_same_pixels(
    ts_product: Any, preset: str, overrides: dict
) -> None:
    img, mask = scene(150, 190, hash(preset) % 100)
    spec = resolve_preset(preset, **overrides)
    want = product_pixels(img, mask, spec)
    got, info = ts_product(img, mask, spec)
    assert got is not None, info
    assert info["frame"]["box"] == list(want.frame.box) and got.shape == want.pixels.shape
    assert parity(got, want.pixels) >= 0.999
    np.testing.assert_array_equal(got, want.pixels)  # in practice: bit for bit


def test_typescript_step_with_background_image_and_photo_alpha(ts_product: Any) -> None:
    img, mask = scene(130, 170, 9)
    img[:20, :, 3] = 90  # part of the photo is itself translucent
    bg, _ = scene(70, 50, 4)
    for fit in ("cover", "contain"):
        spec = resolve_preset("shopify", canvas=[210, 160], background_fit=fit,
                              background="#336699", shadow=True)  # fmt: skip
        want = product_pixels(img, mask, spec, background=bg).pixels
        got, info = ts_product(img, mask, spec, bg)
        assert got is not None, info
        np.testing.assert_array_equal(got, want)


def test_typescript_step_refuses_what_the_kernel_refuses(ts_product: Any) -> None:
    img, mask = scene(40, 40, 0)
    got, info = ts_product(img, np.zeros((40, 40), np.uint8), BUILTIN["amazon"])
    assert got is None and "no subject found" in info["error"]
    good = BUILTIN["transparent"].to_dict()
    for change, message in (
        ({"margin": "50%"}, "below 50% of the subject"),
        ({"margin": "-2px"}, "below 0"),
        ({"canvas": [0, 5], "margin": "0%"}, "outside 1..16384"),
        ({"format": "gif"}, "not one of png, jpeg, webp"),
        ({"decontaminate": "yes"}, "true or false"),
    ):
        got, info = ts_product(img, mask, good | change)
        assert got is None and message in info["error"], (change, info)


def noisy_mask_scene() -> tuple[np.ndarray, np.ndarray]:
    """A subject, a speck near it and faint noise over the whole background (like IS-Net's)."""
    img, mask = scene(200, 260, 11, soft=40.0)
    rng = np.random.default_rng(11)
    noisy = np.maximum(mask, rng.integers(0, 30, mask.shape).astype(np.uint8))
    noisy[20:24, 20:24] = 255  # a 16-pixel speck
    return img, noisy


def test_specks_and_faint_background_values_stay_out_of_the_photo() -> None:
    img, mask = noisy_mask_scene()
    spec = resolve_preset("amazon", canvas=[400, 400], fill=0.5)  # the photo fills the canvas
    px = product_pixels(img, mask, spec).pixels
    border = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])[:, :3]
    assert (border == 255).all()
    clear = product_pixels(img, mask, spec.replace(background=(0, 0, 0, 0), format="png"))
    ys, xs = np.nonzero(clear.pixels[..., 3])
    sw, sh = clear.frame.subject_size
    # every visible pixel lies within the subject's box and its fringe reach
    reach = 0.01 * 400 + 2
    assert xs.min() >= clear.frame.ox - reach and xs.max() <= clear.frame.ox + sw + reach
    assert ys.min() >= clear.frame.oy - reach and ys.max() <= clear.frame.oy + sh + reach


def test_typescript_step_clears_the_same_specks_and_noise(ts_product: Any) -> None:
    img, mask = noisy_mask_scene()
    for spec in (resolve_preset("amazon", canvas=[400, 400], fill=0.5),
                 resolve_preset("transparent", margin="40%", shadow=True)):  # fmt: skip
        got, info = ts_product(img, mask, spec)
        assert got is not None, info
        np.testing.assert_array_equal(got, product_pixels(img, mask, spec).pixels)


def test_a_photo_tagged_display_p3_is_framed_in_srgb(tmp_path: Path) -> None:
    img, mask = scene(120, 160, 4)
    rgb = img[..., :3]
    tagged = tmp_path / "p3.png"
    Image.fromarray(rgb).save(tagged, icc_profile=display_profile())
    loaded = load_image(tagged)
    assert loaded.icc_profile is not None
    converted = to_srgb(loaded).pixels
    assert np.abs(converted[..., :3] - p3_to_srgb(rgb)).max() <= 1.5  # the matrices' answer
    assert np.abs(converted[..., :3].astype(int) - rgb).max() > 10  # it did change colours
    photo = product_photo(tagged, "transparent", mask=mask)
    want = product_photo(converted, "transparent", mask=mask)  # an array is taken as sRGB
    np.testing.assert_array_equal(photo.pixels, want.pixels)
    srgb = tmp_path / "srgb.png"
    Image.fromarray(rgb).save(
        srgb, icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    )
    np.testing.assert_array_equal(to_srgb(load_image(srgb)).pixels, load_image(srgb).pixels)
