"""``BrowserBenchmark``: run model variants on images in the user's own tab, report timings back.

The point is to measure on the device that will run the model. The kernel sends
the onnxruntime-web wasm and the images, then each wrapped model when the view
asks for it, in acknowledged chunks (:class:`widget.transfer.chunks.ChunkSender`, as the
``BackgroundRemover`` does); the view (``js/src/bench/widget.ts``) creates each session
in a fresh engine worker, runs every image ``repeats`` times and sends back the
in-worker timings and the mask. Results arrive while the kernel is idle: display
the widget, wait for :attr:`done`, then read :meth:`rows`, :meth:`summary` or
:meth:`compare_kernel` in a later cell.
"""

from __future__ import annotations

import statistics
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from segmentation.evaluation.runner import Entry, PythonRuntime
from segmentation.images import ImageSource, load_image
from segmentation.models.spec import ModelSpec
from segmentation.pixels import pixels_checksum
from segmentation.store import ensure_wrapped
from widget.engine.kernel_twin import compare_masks
from widget.transfer.assets import Asset, file_asset, image_asset, wasm_asset
from widget.transfer.bundle import LOADER, BundleTraits
from widget.transfer.chunks import ChunkSender

ModelLike = Entry | ModelSpec | tuple[str, Path]


def _model(item: ModelLike) -> tuple[str, Path]:
    if isinstance(item, Entry):
        return item.name, ensure_wrapped(item.spec)
    if isinstance(item, ModelSpec):
        return item.key, ensure_wrapped(item)
    if isinstance(item, tuple) and len(item) == 2:
        name, path = item
        if not Path(path).is_file():
            raise FileNotFoundError(f"model {name!r}: no wrapped model file at {path}")
        return str(name), Path(path)
    raise TypeError(f"a model must be an Entry, a ModelSpec or (name, path), got {item!r}")


def _number(msg: dict[str, Any], key: str) -> float:
    value = msg.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{msg.get('type')} message: {key!r} must be a number, got {value!r}")
    return float(value)


class BrowserBenchmark(BundleTraits, anywidget.AnyWidget):
    """Benchmark wrapped models on images in this notebook's browser tab.

    Parameters
    ----------
    models : sequence of Entry, ModelSpec or (name, wrapped model path)
        What to run (``segmentation.evaluation.runner.Entry`` from the variants, catalog specs...).
    images : sequence of images or (name, image) pairs
        Anything :func:`segmentation.images.load_image` accepts; a pair names the
        image in :meth:`rows` and :attr:`masks` (arrays have no file name).
    repeats : int
        Timed runs per image (each session's first run is timed too: no warm-up).
    threads : int
        WebAssembly threads (0: all; pages that are not cross-origin isolated get 1).
    cache : bool
        Also keep the models in the browser's IndexedDB cache.

    """

    _esm = LOADER
    _bundle_name = "bench.js"
    status = t.Unicode("waiting for a browser").tag(sync=True)
    progress = t.Float(0.0).tag(sync=True)
    done = t.Bool(False).tag(sync=True)
    error = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        models: Sequence[ModelLike],
        images: Sequence[ImageSource | tuple[str, ImageSource]],
        *,
        repeats: int = 2,
        threads: int = 0,
        cache: bool = False,
        **kwargs: Any,
    ) -> None:
        if not models or not images:
            raise ValueError("BrowserBenchmark needs at least one model and one image")
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self._models: dict[str, tuple[str, Asset]] = {}
        for item in models:
            name, path = _model(item)
            asset = file_asset(path, "model")
            self._models[asset.sha256] = (name, asset)
        self._images: dict[str, tuple[str, np.ndarray, Asset]] = {}
        for pic in images:
            label, src = pic if isinstance(pic, tuple) else (None, pic)
            loaded = load_image(src, name=label)
            asset = image_asset(src, loaded)
            self._images[asset.sha256] = (loaded.name, loaded.pixels, asset)
        self._wasm = wasm_asset()
        self._options = {"repeats": int(repeats), "threads": int(threads), "cache": bool(cache)}
        self._senders: list[ChunkSender] = []
        self._view = ""
        self._results: dict[tuple[str, str], dict[str, Any]] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)

    # ------------------------------------------------------------------ results
    def rows(self) -> list[dict[str, Any]]:
        """One row per (model, image) measured so far: timings in seconds."""
        return [dict(r) for r in self._results.values()]

    @property
    def masks(self) -> dict[tuple[str, str], np.ndarray]:
        """Browser masks by ``(model name, image name)``."""
        return {
            (self._models[m][0], self._images[i][0]): mask for (m, i), mask in self._masks.items()
        }

    def summary(self) -> list[dict[str, Any]]:
        """One row per model: size, session creation, latency median/min over images and repeats."""
        out = []
        for name, asset in self._models.values():
            rows = [r for r in self._results.values() if r["model"] == name]
            if not rows:
                continue
            lat = [x for r in rows for x in r["inference_s"]]
            out.append({
                "variant": name, "runtime": f"browser-tab-{rows[0]['threads']}t",
                "n": len(rows), "size_mb": asset.size / 1e6,
                "load_s": rows[0]["session_create_s"],
                "latency_median_s": statistics.median(lat), "latency_min_s": min(lat),
            })  # fmt: skip
        return out

    def compare_kernel(self, threads: int = 2) -> list[dict[str, Any]]:
        """Run each measured (model, image) with onnxruntime in the kernel; compare the masks."""
        runners = {}
        out = []
        for (msha, isha), mask in self._masks.items():
            name, asset = self._models[msha]
            if msha not in runners:
                assert asset.path is not None
                runners[msha] = PythonRuntime(threads).load(asset.path)
            image, pixels, _ = self._images[isha]
            kernel = runners[msha](pixels)
            out.append({"model": name, "image": image, **compare_masks(mask, kernel)})
        return out

    # ------------------------------------------------------------------ messages
    def _send_custom(self, content: dict[str, object], buffers: list[bytes]) -> None:
        self.send(content, buffers)

    def _on_msg(self, _w: object, content: Any, buffers: list[Any] | None) -> None:
        try:
            if not isinstance(content, dict) or not isinstance(content.get("view"), str):
                raise ValueError(f"a message must be an object with a 'view', got {content!r}")
            self._dispatch(content, buffers or [])
        except Exception as exc:  # a view must never take the kernel down
            self.error = f"{type(exc).__name__}: {exc}"

    def _dispatch(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        kind = msg.get("type")
        if kind == "bench_hello":
            self._on_hello(msg)
        elif kind == "ack":
            for sender in self._senders:
                if sender.ack(str(msg.get("sha256")), int(_number(msg, "seq"))):
                    break
        elif kind == "bench_need":
            sha = str(msg.get("sha256"))
            if sha not in self._models:
                raise ValueError(f"the view asked for an unknown model {sha[:12]}")
            self._start([self._models[sha][1]], msg["view"])
        elif kind == "bench_result":
            self._on_result(msg, buffers)
        elif kind == "bench_failed":
            name = self._models.get(str(msg.get("model")), ("?",))[0]
            self.error = f"{name}: {msg.get('stage')}: {msg.get('reason')}"
        elif kind == "bench_done":
            self.done = True
            self.status = f"done: {len(self._results)} runs in the browser"
        else:
            raise ValueError(f"unknown message type {kind!r}")

    def _start(self, assets: list[Asset], view: str) -> None:
        sender = ChunkSender(self._send_custom, view, assets)
        self._senders.append(sender)
        sender.start()

    def _on_hello(self, msg: dict[str, Any]) -> None:
        if self._view:
            return  # one view runs the benchmark; others only display it
        self._view = msg["view"]
        have = set(msg.get("have") or [])
        images = [a for _, _, a in self._images.values()]
        send = ([] if self._wasm.sha256 in have else [self._wasm]) + images
        plan = {
            "type": "bench_plan", "view": self._view, "wasm": self._wasm.info(),
            "models": [a.info() for _, a in self._models.values()],
            "images": [a.info() for _, _, a in self._images.values()],
            "send": [a.sha256 for a in send], **self._options,
        }  # fmt: skip
        self._send_custom(plan, [])
        self._start(send, self._view)
        self.status = "running in the browser"

    def _on_result(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        msha, isha = str(msg.get("model")), str(msg.get("image"))
        if msha not in self._models or isha not in self._images:
            raise ValueError("bench_result for a model or image this benchmark did not send")
        name, _ = self._models[msha]
        image, pixels, _ = self._images[isha]
        w, h = int(_number(msg, "width")), int(_number(msg, "height"))
        if (h, w) != pixels.shape[:2]:
            raise ValueError(
                f"browser mask is {w}x{h}, image {image!r} is {pixels.shape[1]}x{pixels.shape[0]}"
            )
        inference = msg.get("inference")
        if not isinstance(inference, list) or not inference:
            raise ValueError("bench_result: 'inference' must be a non-empty list")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in inference):
            raise ValueError("bench_result: 'inference' must hold numbers")
        times = [float(x) / 1e3 for x in inference]
        if buffers:
            mask = np.frombuffer(zlib.decompress(bytes(buffers[0])), np.uint8)
            self._masks[(msha, isha)] = mask.reshape(h, w)
        self._results[(msha, isha)] = {
            "model": name, "image": image, "width": w, "height": h,
            "session_create_s": _number(msg, "session_create") / 1e3,
            "inference_s": times, "latency_median_s": statistics.median(times),
            "latency_min_s": min(times), "threads": int(_number(msg, "threads")),
            "stable": bool(msg.get("stable")),
            "pixels_match": int(_number(msg, "checksum")) == pixels_checksum(pixels),
        }  # fmt: skip
        total = len(self._models) * len(self._images)
        self.progress = len(self._results) / total
        self.status = f"{len(self._results)}/{total} runs: {name} on {image}"
