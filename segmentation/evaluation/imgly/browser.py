"""Run imgly's ``removeBackground`` in headless Chromium, served from a local server.

:class:`ImglyServer` serves, on ``127.0.0.1`` only, a tiny page, the esbuild
bundle of imgly's library (:mod:`segmentation.evaluation.imgly.install`), the photos,
and the installed data package's ``dist/`` as imgly's ``publicPath`` (its
``resources.json``, the model chunks and onnxruntime-web's wasm files). It
sends no COOP/COEP headers: like a notebook page, the page is not
cross-origin isolated, so onnxruntime-web runs one thread, as the widget does
in JupyterLab.

:func:`run_imgly` opens a fresh browser context per model config (nothing
cached: ``cold`` is the first call, model fetch and session creation
included; ``warm`` the second call, session reused), records every request
the page and its workers make and fails if one leaves ``127.0.0.1``.
"""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from segmentation.evaluation.cpu_time import cpu_s_since, tree_cpu

_PAGE = (
    "<!doctype html><meta charset='utf-8'><title>imgly benchmark</title>"
    "<script src='/imgly-bench.js'></script>"
)
_MIMES = {
    ".js": "text/javascript",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
}


class ImglyServer:
    """Serve the page, the bundle, photos (``/photo/<name>``) and the data package (``/data/``)."""

    def __init__(self, bundle_js: Path, data_dist: Path, photos: dict[str, Path]) -> None:
        self._files: dict[str, Path] = {"/imgly-bench.js": bundle_js}
        self._files.update({f"/photo/{name}": path for name, path in photos.items()})
        self._data = data_dist.resolve()
        files = self._files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = self.path.split("?", 1)[0]
                if route == "/":
                    body, mime = _PAGE.encode(), _MIMES[".html"]
                else:
                    path = files.get(route) or server._data_file(route)
                    if path is None:
                        self.send_error(404, "not served")
                        return
                    body = path.read_bytes()
                    mime = _MIMES.get(path.suffix, "application/octet-stream")
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = self
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def _data_file(self, route: str) -> Path | None:
        name = route.removeprefix("/data/")
        if name == route or not name or "/" in name or name.startswith("."):
            return None
        path = self._data / name
        return path if path.is_file() else None

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ImglyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class ImglyRun:
    """One ``removeBackground`` call, timed in the page.

    ``wall_s`` is the whole call (image fetch and decode, model fetch and session
    creation when cold, inference, PNG encoding); ``compute_s`` imgly's own
    ``compute:inference`` span (its JS resize to 1024, the model, the resize back);
    ``cpu_s`` the CPU seconds of Chromium's processes during the call; ``alpha`` the
    cut-out's alpha channel.
    """

    model: str
    run: str
    wall_s: float
    compute_s: float
    cpu_s: float
    alpha: np.ndarray


def png_alpha(data: bytes) -> np.ndarray:
    """Return the alpha channel (uint8 ``[H, W]``) of imgly's PNG cut-out."""
    with Image.open(io.BytesIO(data)) as im:
        if im.mode != "RGBA":
            raise RuntimeError(f"imgly returned a {im.mode} image, expected RGBA")
        return np.asarray(im.getchannel("A")).copy()


def outside_requests(urls: list[str], base: str) -> list[str]:
    """Return the requested URLs that are neither under ``base`` nor ``blob:``/``data:`` URLs."""
    return [u for u in urls if not (u.startswith((base + "/", "blob:", "data:")) or u == base)]


def run_imgly(
    browser: Any, server: ImglyServer, photo: str, model: str, calls: int = 2
) -> list[ImglyRun]:
    """Call imgly's ``removeBackground`` ``calls`` times on ``/photo/<photo>`` in a fresh context.

    Parameters
    ----------
    browser : playwright.sync_api.Browser
        A launched Chromium.
    server : ImglyServer
        Serves the page, the bundle, the photo and the data package.
    photo : str
        Name the photo was registered under.
    model : str
        imgly's ``model`` option (``"medium"`` or ``"small"`` in 1.4.5).
    calls : int
        The first is ``cold``; later ones ``warm``.

    Raises
    ------
    RuntimeError
        The page failed, or it requested something outside ``127.0.0.1``.

    """
    context = browser.new_context()
    urls: list[str] = []
    console: list[str] = []
    context.on("request", lambda r: urls.append(r.url))
    try:
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.goto(server.url + "/")
        page.wait_for_function("window.imglyBench !== undefined", timeout=60_000)
        arg = {"publicPath": server.url + "/data/", "model": model,
               "image": f"{server.url}/photo/{photo}"}  # fmt: skip
        runs = []
        for i in range(calls):
            cpu0 = tree_cpu(None, "chrom")
            try:
                r = page.evaluate("(a) => window.imglyBench.run(a)", arg)
            except Exception as exc:
                tail = "\n".join(console[-5:])
                raise RuntimeError(f"imgly removeBackground failed: {exc}\n{tail}") from exc
            cpu = cpu_s_since(cpu0, "chrom")
            alpha = png_alpha(base64.b64decode(r["png"]))
            compute = float("nan") if r["compute_ms"] is None else r["compute_ms"] / 1e3
            label = "cold" if i == 0 else "warm"
            runs.append(ImglyRun(model, label, r["ms"] / 1e3, compute, cpu, alpha))
    finally:
        context.close()
    stray = outside_requests(urls, server.url)
    if stray:
        raise RuntimeError(f"imgly's page fetched from outside 127.0.0.1: {stray[:5]}")
    if not any("/data/resources.json" in u for u in urls):
        raise RuntimeError("imgly never requested resources.json from the local server")
    return runs
