"""Product photos wherever outputs are made: the Python API, ``remove_many(preset=...)`` and
``python -m segmentation remove --preset`` (the Dask engine: ``test_dask_engine.py``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation import NoSubjectError, ProductSpecError, Segmenter, product_photo
from segmentation.jobs.job import remove_many
from segmentation.jobs.manifest import ManifestRow
from tests._images import red_photos
from tests.conftest import TinyModel
from tests.segmentation.cli_runs import cli, rows
from tests.tinymodel import red_square_rgba


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))


def run(tiny: TinyModel, inputs: object, out: Path, **kw: object) -> list[ManifestRow]:
    kw.setdefault("workers", 1)
    kw.setdefault("progress", False)
    return remove_many(inputs, out, model=tiny.spec.name, registry=tiny.registry, **kw)  # type: ignore[arg-type]


SMALL = {"extends": "amazon", "name": "amazon-small", "canvas": [240, 240]}


def white_border_and_fill(path: Path, fill: float) -> None:
    im = np.asarray(Image.open(path).convert("RGB")).astype(int)
    for edge in (im[0], im[-1], im[:, 0], im[:, -1]):
        assert edge.min() >= 250  # white within what JPEG keeps
    ys, xs = np.nonzero(np.abs(im - 255).max(axis=2) > 60)  # the red square
    side = max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()) / im.shape[0]
    assert abs(side - fill) < 0.02, side


def test_segmenter_product_and_the_mask_only_path(tiny_model: TinyModel) -> None:
    seg = Segmenter(tiny_model.spec.name, registry=tiny_model.registry)
    img = red_square_rgba(150, 200, 40)
    photo = seg.product(img, "amazon", canvas="300x300")
    assert photo.size == (300, 300) and photo.mime == "image/jpeg"
    assert abs(photo.fill - 0.85) < 1e-9 and photo.data[:2] == b"\xff\xd8"
    mask = seg.mask(img)
    again = product_photo(img, "amazon", mask=mask, canvas="300x300")  # no model needed
    np.testing.assert_array_equal(again.pixels, photo.pixels)
    with pytest.raises(NoSubjectError, match="no subject found"):
        product_photo(img, "amazon", mask=np.zeros((150, 200), np.uint8))
    with pytest.raises(ProductSpecError, match="unknown preset"):
        product_photo(img, "etsy", mask=mask)


def test_bad_background_image_fails_before_any_work(tiny_model: TinyModel, tmp_path: Path) -> None:
    bad = tmp_path / "bg.png"
    bad.write_bytes(b"not a png")
    red_photos(tmp_path / "in", 2)
    with pytest.raises(Exception, match=r"background image: .*bg\.png") as err:
        run(tiny_model, tmp_path / "in", tmp_path / "out",
            preset={"extends": "shopify", "background_image": str(bad)})  # fmt: skip
    assert "\n" not in str(err.value) and not (tmp_path / "out").exists()


def test_canvas_above_the_pixel_limit_fails_before_any_work(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    red_photos(tmp_path / "in", 1)
    with pytest.raises(ProductSpecError, match="above the pixel limit") as err:
        run(tiny_model, tmp_path / "in", tmp_path / "out", preset="amazon", max_pixels=1_000_000)
    assert "2000x2000 = 4,000,000 pixels" in str(err.value) and not (tmp_path / "out").exists()


def test_job_writes_product_photos_records_the_preset_and_redoes_on_change(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    red_photos(tmp_path / "in", 3)
    blank = tmp_path / "in" / "blank.png"
    Image.fromarray(np.full((80, 80, 3), 128, np.uint8)).save(blank)
    out = tmp_path / "out"
    first = run(tiny_model, tmp_path / "in", out, preset=SMALL)
    done = [r for r in first if r.ok]
    assert len(done) == 3 and all(r.outputs[0].endswith(".jpg") for r in done)
    assert all(r.preset == "amazon-small" for r in first)
    (failed,) = [r for r in first if not r.ok]
    assert failed.source == str(blank) and "no subject found" in str(failed.error)
    assert not Path(failed.outputs[0]).exists()  # never a blank white photo as success
    for r in done:
        white_border_and_fill(Path(r.outputs[0]), 0.85)
    line = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])
    assert line["preset"] == "amazon-small"
    again = run(tiny_model, tmp_path / "in", out, preset=SMALL)
    assert [r.status for r in again if r.ok] == ["skipped"] * 3
    changed = run(tiny_model, tmp_path / "in", out, preset={**SMALL, "fill": 0.6})
    assert [r.status for r in changed if r.ok] == ["done"] * 3
    white_border_and_fill(Path(next(r for r in changed if r.ok).outputs[0]), 0.6)


def test_cli_preset_amazon_and_a_user_preset_file(
    spec_file: Path,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    red_photos(tmp_path / "in", 2)
    presets = tmp_path / "mine.json"
    clear = {"extends": "transparent", "format": "webp", "quality": 80}
    presets.write_text(json.dumps({"presets": {"clear": clear}}))
    run_ = cli(tmp_path / "in", "-o", tmp_path / "out", "--model-spec", spec_file,
               "--preset", "clear", "--preset-file", presets, env=env)  # fmt: skip
    assert run_.returncode == 0, run_.stderr
    written = sorted((tmp_path / "out").glob("*.webp"))
    assert len(written) == 2
    with Image.open(io.BytesIO(written[0].read_bytes())) as im:
        assert im.format == "WEBP" and im.mode == "RGBA"
    assert {r["preset"] for r in rows(tmp_path / "out" / "manifest.jsonl")} == {"clear"}
    bad = cli(tmp_path / "in", "-o", tmp_path / "o2", "--model-spec", spec_file,
              "--preset", "amazon-xl", env=env)  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "unknown preset 'amazon-xl'" in bad.stderr and not (tmp_path / "o2").exists()
