"""The real ISNet (default precision) in the browser against the kernel twin, on real images.

Images: four distinct real photos shipped inside dependencies (matplotlib's
Grace Hopper portrait and its RGBA product shot, scikit-image's cat ``chelsea.png``
with a wide soft edge and its ``rocket.jpg`` with a small object), plus the
portrait re-encoded with an EXIF rotation. Plain JPEG and PNG bytes are decoded
by the browser itself; the EXIF copy, the RGBA PNG and the rocket (tagged Adobe RGB,
converted to sRGB in the kernel) are sent as the kernel's normalised pixels.
``pixels_match`` proves the browser fed the model the kernel's pixels; the masks must
agree to IoU >= 0.999 and MAE <= 0.002.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from matplotlib import cbook
from PIL import Image

from tests.e2e.conftest import NotebookFactory
from widget.testing.widgets import wait_result

pytestmark = [pytest.mark.isnet, pytest.mark.slow]


def images(tmp: Path) -> list[tuple[str, str]]:
    hopper = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    pack = Path(cbook.get_sample_data("Minduka_Present_Blue_Pack.png", asfileobj=False))
    rotated = tmp / "hopper-exif6.jpg"
    with Image.open(hopper) as im:
        small = im.resize((300, 352))
        exif = small.getexif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
        small.save(rotated, quality=90, exif=exif)
    skimage_data = resources.files("skimage") / "data"
    cat = Path(str(skimage_data / "chelsea.png"))
    rocket = Path(str(skimage_data / "rocket.jpg"))
    return [
        ("jpeg", str(hopper)),
        ("exif", str(rotated)),
        ("rgba", str(pack)),
        ("cat", str(cat)),
        ("rocket", str(rocket)),
    ]


def test_isnet_browser_matches_kernel(notebook: NotebookFactory, tmp_path: Path) -> None:
    imgs = images(tmp_path)
    cells = ["import widget"] + [
        f"w_{name} = widget.BackgroundRemover({path!r}, backend='browser')\nw_{name}"
        for name, path in imgs
    ]
    nb = notebook(cells)
    nb.run_all(timeout_s=300)
    mimes = {}
    for name, _ in imgs:
        state = wait_result(nb, f"w_{name}", timeout_s=600)
        assert state["backend_used"] == "browser", state
        cmp = nb.kernel_eval(f"w_{name}.compare()", timeout_s=300)
        assert cmp["pixels_match"] is True, (name, cmp)
        assert cmp["iou"] >= 0.999, (name, cmp)
        assert cmp["mae"] <= 0.002, (name, cmp)
        mimes[name] = nb.kernel_eval(f"w_{name}._image_asset.mime")
        print(name, cmp)
    assert mimes == {
        "jpeg": "image/jpeg",
        "exif": "application/x-rgba+deflate",
        "rgba": "application/x-rgba+deflate",
        "cat": "image/png",
        "rocket": "application/x-rgba+deflate",
    }
    assert nb.kernel_eval("w_jpeg.model_key") == "isnet-general-use:int8-static"
    # the browser loaded the graph the kernel optimised (no optimisation of its own), and its
    # masks are still the kernel's
    assert ".wasm-ort" in nb.kernel_eval("w_jpeg._model_asset.name")
    # the model crossed the wire once for all the widgets
    names = ", ".join(f"w_{name}" for name, _ in imgs)
    sent = nb.kernel_eval(f"[w.bytes_sent['model'] for w in ({names})]")
    assert sorted(sent)[:-1] == [0] * (len(imgs) - 1) and max(sent) > 40_000_000, sent
    nb.screenshot("engine-isnet")
