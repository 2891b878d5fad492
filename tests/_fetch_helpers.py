"""Shared helpers for the fetch tests: a tiny real ONNX model and a real local HTTP server."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from segmentation.models.spec import ModelSpec


def tiny_onnx_bytes(size: int = 8, seed: int = 0) -> bytes:
    """A real ONNX model: ``input`` [1,3,s,s] -> ``output`` [1,1,s,s] = sigmoid(w . x + b).

    It has a float32 weight initializer so files of different seeds differ.
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(1, 3, 1, 1)).astype(np.float32)
    b = np.array([0.1], np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def tiny_spec(name: str = "tiny", precision: str = "fp32", **kw: object) -> ModelSpec:
    """A spec that feeds :func:`tiny_onnx_bytes` (8x8 input)."""
    args: dict[str, object] = {
        "input_size": (8, 8),
        "mean": (0.5, 0.5, 0.5),
        "std": (0.25, 0.25, 0.25),
        "license": "test",
    }
    args.update(kw)
    return ModelSpec(name=name, precision=precision, sources=(), **args)  # type: ignore[arg-type]


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Route:
    """What the server answers on one path: ``body``; ``truncate_to`` sends fewer bytes
    than Content-Length announces and then closes the connection."""

    body: bytes
    truncate_to: int | None = None


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1; ``requests`` records every path asked for."""

    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(state: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.requests.append(self.path)
            route = state.routes.get(self.path)
            if route is None:
                body = b"not found"
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(route.body)))
            if route.truncate_to is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            sent = route.body if route.truncate_to is None else route.body[: route.truncate_to]
            self.wfile.write(sent)
            self.wfile.flush()
            if route.truncate_to is not None:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    return Handler


@contextmanager
def serve() -> Iterator[LocalServer]:
    """Run a :class:`LocalServer` on a random free port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = LocalServer(port=server.server_address[1])
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return port


def files_in(folder: Path) -> list[str]:
    """Names of the files under ``folder`` (recursively), sorted."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@contextmanager
def cache_env(folder: Path) -> Iterator[Path]:
    """Point ``$PIXEL_LIBERATION_CACHE`` at ``folder`` for the block (outside monkeypatch)."""
    from segmentation.config import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    try:
        yield folder
    finally:
        if old is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = old


def isnet_cache(base: Path, *precisions: str) -> Path:
    """A cache folder under ``base`` holding the real IS-Net ``precisions`` (built once).

    The npm package is found where it is installed (the default cache), so the
    tests assemble the real chunks into a temporary cache without installing.
    """
    from segmentation.models.registry import default_registry
    from segmentation.store import ensure_model

    folder = base / "isnet-cache"
    with cache_env(folder):
        for precision in precisions:
            ensure_model(default_registry().get("isnet-general-use", precision))
    return folder


def real_package() -> Path:
    """The installed ``@imgly/background-removal-data`` package (fails clearly if absent)."""
    from segmentation.models.npm_package import find_package, install_command
    from segmentation.models.spec import IMGLY_PACKAGE, IMGLY_VERSION

    pkg = find_package(IMGLY_PACKAGE, IMGLY_VERSION)
    assert pkg is not None, (
        f"the npm data package is needed: {install_command(IMGLY_PACKAGE, IMGLY_VERSION)}"
    )
    return pkg
