"""A 24-megapixel photo goes through the browser engine (tiny model, in-graph resize at full size).

The mask (24 MB) comes back in chunks under tornado's 10 MiB websocket frame
limit; a single message would drop the connection silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.e2e.conftest import NotebookFactory
from widget.testing.widgets import wait_result


def test_24_megapixel_image(notebook: NotebookFactory, tmp_path: Path) -> None:
    h, w = 4000, 6000
    img = np.full((h, w, 3), 128, np.uint8)
    img[800:3200, 1200:4800] = (220, 30, 30)
    path = tmp_path / "big.jpg"
    Image.fromarray(img).save(path, quality=90)
    cells = [
        "import widget\n"
        "from tests.tinymodel import build_tiny_model\n"
        f"_, spec = build_tiny_model({str(tmp_path)!r})\n"
        f"w = widget.BackgroundRemover({str(path)!r}, spec, backend='browser')\nw"
    ]
    nb = notebook(cells)
    nb.run_all(timeout_s=300)
    state = wait_result(nb, timeout_s=600)
    assert state["backend_used"] == "browser", state
    cmp = nb.kernel_eval("w.compare()", timeout_s=300)
    assert cmp["pixels_match"] is True
    assert cmp["max_abs_diff"] <= 1 / 255, cmp
    info = nb.kernel_eval("{'shape': list(w.mask.shape), 'inside': int(w.mask[2000, 3000])}")
    assert info["shape"] == [h, w] and info["inside"] > 200, info
    # the kernel is still connected: no frame over the limit dropped the socket
    assert nb.kernel_eval("1 + 1") == 2
