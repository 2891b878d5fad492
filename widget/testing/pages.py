"""The mask editor's standalone page: build it, serve it, drive it.

The page (``js/test/page``, bundled from a checkout's ``js/`` with its esbuild) mounts the
editor on a synthetic photo with two objects and a soft model mask. The browser tests
(``tests/e2e/test_editor_*.py``) drive it with Playwright's mouse and keyboard and check the
edit log it emits by replaying it in Python with :mod:`segmentation.mask_edits`;
``python -m widget.bench editor-ops`` times its whole-mask operations.
"""

from __future__ import annotations

import base64
import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
PAGE_SRC = ROOT / "js" / "test" / "page"
ESBUILD = ROOT / "js" / "node_modules" / ".bin" / "esbuild"
EDITOR_WORKER = ROOT / "js" / "src" / "editor" / "ops-worker.ts"
ARTIFACTS = ROOT / "test-artifacts" / "editor"


def build_page(out: Path, root: Path = ROOT) -> Path:
    """Bundle the test page with esbuild into ``out``; return ``out``.

    ``root`` is the checkout whose ``js/`` sources are bundled (another one: a baseline).
    """
    if not ESBUILD.exists():
        raise FileNotFoundError(f"{ESBUILD} is missing: run `npm ci` in js/")
    page_src = root / PAGE_SRC.relative_to(ROOT)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(page_src / "index.html", out / "index.html")
    common = ["--bundle", "--format=esm", "--target=es2022", "--log-level=warning"]
    extra: list[str] = []
    worker_src = root / EDITOR_WORKER.relative_to(ROOT)
    if worker_src.exists():  # inlined as a string, as js/build.mjs does for the widget
        worker = out / "editor-worker.txt"
        subprocess.run([str(ESBUILD), str(worker_src), *common, f"--outfile={worker}"], check=True)
        extra = [f"--alias:virtual:editor-worker-source={worker}", "--loader:.txt=text"]
    subprocess.run(
        [str(ESBUILD), str(page_src / "editor-page.ts"), *common, *extra,
         f"--outfile={out / 'editor-page.js'}"],
        check=True,
    )  # fmt: skip
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free localhost port; yield its base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def open_editor(page: Page, base: str, w: int, h: int, hostw: int | None = None) -> None:
    """Load the page at image size ``w`` x ``h`` and wait until the editor is ready."""
    page.goto(f"{base}/index.html?w={w}&h={h}&hostw={hostw or w}")
    page.wait_for_function("window.__editor && window.__editor.root.dataset.ready === '1'")


def page_mask(page: Page, which: str = "mask") -> np.ndarray:
    """Return the editor's current mask (or ``which="model"``) as uint8 ``[H, W]``."""
    fn = "__maskB64" if which == "mask" else "__modelB64"
    raw = base64.b64decode(page.evaluate(f"window.{fn}()"))
    size = "(({width, height}) => [width, height])(window.__editor.history.mask)"
    w, h = page.evaluate(size)
    return np.frombuffer(raw, np.uint8).reshape(h, w)


def edits(page: Page) -> dict[str, Any]:
    """Return what the editor last emitted: ``log``, ``cursor`` and ``count``."""
    return page.evaluate("window.__edits")


def to_client(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image point (x, y)."""
    p = page.evaluate(f"window.__editor.imageToClient({x}, {y})")
    return p["x"], p["y"]


def stroke(page: Page, points: list[tuple[float, float]], steps: int = 12) -> None:
    """Press the mouse at the first image point, move through the others, release."""
    x, y = to_client(page, *points[0])
    page.mouse.move(x, y)
    page.mouse.down()
    for px, py in points[1:]:
        x, y = to_client(page, px, py)
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def capsule(h: int, w: int, a: tuple[float, float], b: tuple[float, float], r: float) -> np.ndarray:
    """Pixels whose centre lies within ``r`` of segment a-b (independent of mask_edits)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    ax, ay = a
    ex, ey = b[0] - ax, b[1] - ay
    t = np.clip(((xx - ax) * ex + (yy - ay) * ey) / (ex * ex + ey * ey), 0, 1)
    return np.hypot(xx - ax - t * ex, yy - ay - t * ey) <= r


def set_input(page: Page, name: str, value: str) -> None:
    """Set a toolbar input (range, colour, select) and fire the events a user's change fires."""
    page.evaluate(
        """([name, value]) => {
            const el = document.querySelector(`[data-name="${name}"]`);
            el.value = value;
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        [name, value],
    )
