"""A small local HTTP server for the headless-Chromium benchmark page.

The caller names the built front end's folder (``front_end`` of :func:`open_bench_page`;
the command line passes :func:`segmentation.config.front_end_dir`). The server listens on
``127.0.0.1`` on a free port and serves only what was registered: the page, the front-end
bundle and assets by sha256 (files streamed from disk, or bytes from memory). Every answer
carries COOP/COEP headers, so the page is cross-origin isolated and onnxruntime-web may use
WebAssembly threads. It stops with :meth:`BenchServer.close`, or by itself after
``idle_timeout_s`` without a request, so a crashed benchmark never leaves it behind.
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_BLOCK = 1 << 20
_PAGE = (
    "<!doctype html><meta charset='utf-8'><title>pixel-liberation benchmark</title>"
    "<script type='module'>import { headless } from '/bench.js';"
    "window.pixelBench = headless();</script>"
)


class BenchServer:
    """Serve registered paths on ``http://127.0.0.1:<port>/``.

    Parameters
    ----------
    idle_timeout_s : float
        Shut down after this long without a request.

    """

    def __init__(self, idle_timeout_s: float = 900.0) -> None:
        self._routes: dict[str, tuple[str, Path | bytes]] = {}
        self._last = time.monotonic()
        self._idle = float(idle_timeout_s)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._touch()
                route = server._routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404, "not registered")
                    return
                mime, body = route
                size = body.stat().st_size if isinstance(body, Path) else len(body)
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(size))
                for k, v in _HEADERS.items():
                    self.send_header(k, v)
                self.end_headers()
                if isinstance(body, bytes):
                    self.wfile.write(body)
                    return
                with body.open("rb") as f:
                    while block := f.read(_BLOCK):
                        self.wfile.write(block)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the benchmark prints its own progress

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._serve = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._stopped = threading.Event()
        self._serve.start()
        self._watch.start()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def running(self) -> bool:
        """Whether the server still answers."""
        return not self._stopped.is_set()

    def _touch(self) -> None:
        self._last = time.monotonic()

    def _watchdog(self) -> None:
        while not self._stopped.wait(1.0):
            if time.monotonic() - self._last > self._idle:
                self.close()

    def add(self, route: str, body: Path | bytes, mime: str = "application/octet-stream") -> str:
        """Serve ``body`` (a file, read on each request, or bytes) at ``route``; return its URL."""
        if not route.startswith("/"):
            raise ValueError(f"route must start with '/', got {route!r}")
        if isinstance(body, Path) and not body.is_file():
            raise FileNotFoundError(f"cannot serve {body}: no such file")
        self._routes[route] = (mime, body)
        self._touch()
        return self.url + route

    def remove(self, route: str) -> None:
        """Stop serving ``route`` (bytes registered there are released)."""
        self._routes.pop(route, None)

    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> BenchServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Files of the built front end that the benchmark page needs.
BENCH_FILES = ("bench.js", "ort-wasm-simd-threaded.wasm")


def check_front_end(folder: Path) -> Path:
    """Return ``folder`` if it holds the benchmark page's files, else fail naming the missing one.

    Raises
    ------
    FileNotFoundError
        A file of :data:`BENCH_FILES` is not in ``folder``.

    """
    folder = Path(folder)
    for name in BENCH_FILES:
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder / name} is missing: build the front end (cd js && npm run build) "
                f"or name its folder in $PIXEL_LIBERATION_FRONT_END"
            )
    return folder


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def open_bench_page(
    front_end: Path, idle_timeout_s: float = 900.0
) -> tuple[BenchServer, dict[str, str]]:
    """Start a server for the benchmark page (``/``), ``/bench.js`` and the wasm.

    Parameters
    ----------
    front_end : Path
        Folder of the built front end (``widget/static`` of a build), checked first.
    idle_timeout_s : float
        The server stops after this long without a request.

    Returns
    -------
    (BenchServer, dict)
        The server and the wasm asset as the page expects it (``sha256``, ``url``).

    """
    static = check_front_end(front_end)
    wasm = static / "ort-wasm-simd-threaded.wasm"
    server = BenchServer(idle_timeout_s)
    server.add("/", _PAGE.encode(), "text/html; charset=utf-8")
    server.add("/bench.js", static / "bench.js", "text/javascript")
    url = server.add("/ort.wasm", wasm, "application/wasm")
    return server, {"sha256": sha256_of(wasm), "url": url}
