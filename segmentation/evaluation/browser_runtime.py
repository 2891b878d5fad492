"""The headless-Chromium runtime of the benchmark: the widget's engine, driven from a script.

A :class:`BrowserSession` serves the built front-end bundle (``widget/static/bench.js``,
whose engine worker is the widget's own) and a tiny page from a local
:class:`~segmentation.evaluation.page_server.BenchServer`, opens it in Chromium through
Playwright, and then, per model, has the page fetch the wrapped model and the
onnxruntime-web wasm, create the session in a fresh worker, and run it on RGBA
pixels (sent deflated, decoded by the worker exactly like the widget's raw
images). Timings are measured inside the worker (``InferenceSession.create``,
``session.run``), so they exclude the transfers. :class:`BrowserRuntime` plugs
this into :func:`segmentation.evaluation.runner.run_benchmark`.

Playwright is an optional dependency; its sync API cannot run inside an asyncio
loop (a notebook): there, use :class:`widget.benchmark.BrowserBenchmark`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import statistics
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.config import front_end_dir
from segmentation.evaluation.cpu_time import tree_cpu_s
from segmentation.evaluation.page_server import open_bench_page, sha256_of
from segmentation.pixels import pixels_checksum

#: Chromium used unless ``PIXEL_LIBERATION_CHROMIUM`` names another.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
RAW_RGBA = "application/x-rgba+deflate"


@dataclass(frozen=True)
class LoadInfo:
    """A model session created in the browser."""

    session_create_s: float
    fetch_s: float
    threads: int
    execution_provider: str


@dataclass(frozen=True)
class ImageRun:
    """One image run ``repeats`` times: the (last) mask and the timings."""

    mask: np.ndarray
    inference_s: list[float]
    decode_s: float
    stable: bool
    #: CPU seconds per repeat of the browser's processes (includes decoding); None off Linux.
    cpu_s: float | None = None

    @property
    def median_s(self) -> float:
        """Median inference time."""
        return statistics.median(self.inference_s)

    @property
    def min_s(self) -> float:
        """Fastest inference."""
        return min(self.inference_s)


_DRIVER: dict[str, Any] = {"pw": None, "users": 0}


def _acquire_driver() -> Any:
    """Return the shared Playwright driver (Playwright allows one sync instance per thread)."""
    try:
        # playwright: the optional 'test' extra, only for the headless runtime
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ImportError(
            "the browser benchmark needs Playwright: pip install playwright "
            "(and a Chromium; no `playwright install` needed with executable_path)"
        ) from exc
    if _DRIVER["pw"] is None:
        _DRIVER["pw"] = sync_playwright().start()
    _DRIVER["users"] += 1
    return _DRIVER["pw"]


def _release_driver() -> None:
    _DRIVER["users"] = max(0, _DRIVER["users"] - 1)
    if _DRIVER["users"] == 0 and _DRIVER["pw"] is not None:
        pw, _DRIVER["pw"] = _DRIVER["pw"], None
        pw.stop()


def _check_rgba(rgba: np.ndarray) -> np.ndarray:
    if not isinstance(rgba, np.ndarray) or rgba.dtype != np.uint8:
        raise TypeError(f"pixels must be a uint8 numpy array, got {getattr(rgba, 'dtype', rgba)!r}")
    if rgba.ndim != 3 or rgba.shape[2] != 4 or min(rgba.shape[:2]) < 1:
        raise ValueError(f"pixels must be RGBA [H, W, 4], got shape {rgba.shape}")
    return np.ascontiguousarray(rgba)


class BrowserSession:
    """Chromium with the benchmark page open, served from a local server.

    Parameters
    ----------
    threads : int
        WebAssembly threads (the page is cross-origin isolated, so > 1 works).
    chromium : Path, optional
        Browser executable (default ``PIXEL_LIBERATION_CHROMIUM`` or /usr/bin/chromium).
    idle_timeout_s : float
        The local server stops after this long without a request.
    front_end : Path, optional
        Folder of the built front end that the page loads (``bench.js``, the wasm); default
        :func:`segmentation.config.front_end_dir`.

    """

    def __init__(
        self,
        threads: int = 1,
        chromium: Path | None = None,
        idle_timeout_s: float = 900.0,
        front_end: Path | None = None,
    ) -> None:
        exe = Path(chromium or os.environ.get("PIXEL_LIBERATION_CHROMIUM") or CHROMIUM)
        if not exe.is_file():
            raise FileNotFoundError(f"no Chromium at {exe}: install it (apt-get install chromium)")
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.threads = threads
        self.console: list[str] = []
        self._server, self._wasm = open_bench_page(front_end or front_end_dir(), idle_timeout_s)
        self._pw = _acquire_driver()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=str(exe), args=list(CHROMIUM_ARGS)
            )
            self._page = self._browser.new_page()
            self._page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
            self._page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
            self._page.goto(self._server.url + "/")
            self._page.wait_for_function("window.pixelBench !== undefined", timeout=60_000)
        except BaseException:
            self.close()
            raise

    def _call(self, method: str, arg: dict[str, Any]) -> Any:
        # playwright: the optional 'test' extra, only for the headless runtime
        from playwright.sync_api import Error as PlaywrightError

        try:
            return self._page.evaluate(f"(a) => window.pixelBench.{method}(a)", arg)
        except PlaywrightError as exc:
            tail = "\n".join(self.console[-5:])
            raise RuntimeError(f"browser {method} failed: {exc.message}\n{tail}") from exc

    def caps(self) -> dict[str, Any]:
        """Return what the page can do (``crossOriginIsolated``, ``threads``, ``simd``...)."""
        return dict(self._page.evaluate("() => window.pixelBench.caps()"))

    def load(self, model_path: Path) -> LoadInfo:
        """Create a session of the wrapped model at ``model_path`` in a fresh worker."""
        path = Path(model_path)
        sha = sha256_of(path)
        url = self._server.add(f"/asset/{sha}", path)
        model = {"sha256": sha, "url": url}
        try:
            r = self._call("load", {"model": model, "wasm": self._wasm, "threads": self.threads})
        finally:
            self._server.remove(f"/asset/{sha}")
        return LoadInfo(r["session_create"] / 1e3, r["fetch"] / 1e3, int(r["threads"]),
                        str(r["execution_provider"]))  # fmt: skip

    def run(self, rgba: np.ndarray, repeats: int = 1) -> ImageRun:
        """Run the loaded model ``repeats`` times on RGBA pixels; return the mask and timings."""
        rgba = _check_rgba(rgba)
        h, w = rgba.shape[:2]
        data = zlib.compress(rgba.tobytes(), 1)
        sha = hashlib.sha256(data).hexdigest()
        image = {"sha256": sha, "mime": RAW_RGBA, "width": w, "height": h}
        image["url"] = self._server.add(f"/image/{sha}", data)
        repeats = max(1, int(repeats))
        cpu0 = tree_cpu_s()
        try:
            r = self._call("run", {"image": image, "repeats": repeats})
            cpu1 = tree_cpu_s()
        finally:
            self._server.remove(f"/image/{sha}")
        if int(r["checksum"]) != pixels_checksum(rgba):
            raise RuntimeError("the browser decoded other pixels than it was sent (checksum)")
        mask = np.frombuffer(zlib.decompress(base64.b64decode(r["mask"])), np.uint8)
        if mask.size != int(r["width"]) * int(r["height"]):
            raise RuntimeError(f"mask of {mask.size} bytes for {r['width']}x{r['height']}")
        mask = mask.reshape(int(r["height"]), int(r["width"]))
        times = [float(t) / 1e3 for t in r["inference"]]
        cpu = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / repeats
        return ImageRun(mask, times, float(r["decode"]) / 1e3, bool(r["stable"]), cpu)

    def close(self) -> None:
        """Close the browser, Playwright and the server (idempotent)."""
        browser = self.__dict__.pop("_browser", None)
        try:
            if browser is not None:
                browser.close()
        except Exception:  # closing is best effort; the driver and server still stop
            pass
        if self.__dict__.pop("_pw", None) is not None:
            _release_driver()
        if "_server" in self.__dict__:
            self._server.close()

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class BrowserRunner:
    """A model loaded in the browser, callable like the Python runners of the benchmark.

    ``load_s`` is the in-browser session creation and ``last_latency_s`` the last
    run's in-browser inference: :func:`segmentation.evaluation.runner.run_benchmark` reports
    these instead of its own wall clock (which would include the transfers).
    """

    session: BrowserSession
    info: LoadInfo
    model: str = ""
    last_latency_s: float | None = None
    last_cpu_s: float | None = None
    log: list[dict[str, Any]] | None = None

    @property
    def load_s(self) -> float:
        """Session creation in the browser, seconds."""
        return self.info.session_create_s

    def __call__(self, rgba: np.ndarray) -> np.ndarray:
        """Run once; return the uint8 [H, W] mask."""
        run = self.session.run(rgba, 1)
        self.last_latency_s, self.last_cpu_s = run.inference_s[0], run.cpu_s
        if self.log is not None:
            self.log.append({"model": self.model, "latency_s": run.inference_s[0],
                             "cpu_s": run.cpu_s})  # fmt: skip
        return run.mask


class BrowserRuntime:
    """:class:`segmentation.evaluation.runner.Runtime` running models in headless Chromium (WASM).

    The browser starts on the first :meth:`load`; call :meth:`close` (or use ``with``).
    ``front_end`` is the built front end's folder (see :class:`BrowserSession`).
    """

    def __init__(
        self, threads: int = 1, chromium: Path | None = None, front_end: Path | None = None
    ) -> None:
        self.threads = threads
        self._chromium = chromium
        self._front_end = front_end
        self._session: BrowserSession | None = None
        #: One entry per run: ``model`` (file name), ``latency_s``, ``cpu_s``.
        self.log: list[dict[str, Any]] = []
        self._described = ""

    @property
    def name(self) -> str:
        """``browser-<threads>t``."""
        return f"browser-{self.threads}t"

    @property
    def session(self) -> BrowserSession:
        """The browser session (started on first use)."""
        if self._session is None:
            self._session = BrowserSession(self.threads, self._chromium, front_end=self._front_end)
        return self._session

    def load(self, model_path: Path) -> BrowserRunner:
        """Create the session in a fresh worker of the page."""
        info = self.session.load(model_path)
        self._described = (f"Chromium {self.session._browser.version}, {info.threads} wasm "
                           f"thread(s), {info.execution_provider}")  # fmt: skip
        return BrowserRunner(self.session, info, Path(model_path).name, log=self.log)

    @property
    def browser_version(self) -> str:
        """Browser version, threads and provider of the last session ("" before the first)."""
        return self._described

    def close(self) -> None:
        """Close the browser and its server."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> BrowserRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_in_browser(
    model_path: Path, images: list[np.ndarray], repeats: int = 2, threads: int = 1
) -> tuple[LoadInfo, list[ImageRun]]:
    """Load one wrapped model in a fresh headless Chromium; run it ``repeats`` times per image."""
    with BrowserSession(threads) as session:
        info = session.load(model_path)
        return info, [session.run(rgba, repeats) for rgba in images]
