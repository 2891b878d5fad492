"""What every widget's protocol shares: the error, ``hello``/``ack``, field readers, receiving.

Everything a view sends is untrusted. Each widget's parser
(:func:`widget.protocol.remover.parse_view_message`,
:func:`widget.protocol.batch.parse_batch_message`) turns a custom message into a
frozen dataclass or raises :class:`WireError` naming the problem, using the field
readers here, which check type *and* range (a bool is never a number, a float is
never an integer, every number is finite). :func:`receive` puts a rejected message
into the widget's ``error`` trait instead of crashing the kernel, and clears that
trait again once a message is accepted. The JavaScript half is
``js/src/protocol/common.ts``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger("pixel_liberation.widget")
M = TypeVar("M")

#: Largest mask chunk a view may send (tornado drops websocket frames over 10 MiB).
MAX_MASK_CHUNK = 4 * 1024 * 1024
#: WebAssembly threads a view may report (onnxruntime-web's pool; the engine asks for <= 4).
MAX_THREADS = 64
#: Longest view id (the views make 10-character ids).
MAX_VIEW_ID = 64
#: Longest identifier (message type, stage, execution provider, timing name).
MAX_NAME = 64
#: Longest free text kept from a view (reasons, adapter names); longer text is cut.
MAX_TEXT = 2000
#: Most entries in a ``timings`` object.
MAX_ENTRIES = 64
#: Most cached assets a ``hello`` may list in ``have``.
MAX_CACHED = 4096
#: Largest checksum (:func:`segmentation.pixels.pixels_checksum` is modulo 2**32).
MAX_CHECKSUM = 2**32 - 1
#: Largest integer a view can send exactly (JavaScript's ``Number.MAX_SAFE_INTEGER``).
MAX_SAFE_INTEGER = 2**53 - 1
#: Execution providers a view may report.
EXECUTION_PROVIDERS = ("wasm", "webgpu")

#: ``hello`` capabilities that are booleans (``Capabilities`` in js/src/protocol/common.ts).
BOOL_CAPS = (
    "wasm",
    "simd",
    "threads",
    "crossOriginIsolated",
    "sharedArrayBuffer",
    "webgpu",
    "webgpuF16",
    "worker",
    "indexedDB",
    "subtleCrypto",
    "offscreenCanvas",
)
#: ``hello`` capabilities that are text or null.
TEXT_CAPS = ("webgpuAdapter", "userAgent")
#: Most logical cores a view may report (``navigator.hardwareConcurrency``).
MAX_CORES = 4096
#: Most gigabytes of memory a view may report (``navigator.deviceMemory`` is capped at 8).
MAX_DEVICE_MEMORY_GB = 1024.0
#: Most measured runs a ``hello`` may report (``perf``).
MAX_MEASURED = 32
#: Largest model input side a measured run may name.
MAX_SIDE = 4096


class WireError(ValueError):
    """A message from the front end does not follow the protocol."""


@dataclass(frozen=True)
class Measured:
    """Times a page measured on an earlier run of one model (kept in its IndexedDB)."""

    model: str
    """sha256 of the model file."""
    ep: str
    threads: int
    resolution: tuple[int, int]
    """Model input ``(height, width)`` of the run."""
    session_ms: float | None
    """Creating the session (None: the run found it created)."""
    inference_ms: float | None


@dataclass(frozen=True)
class Hello:
    """A view started: what it has cached, what it can do, why it cannot run (if so).

    ``warm`` is the sha256 of the model whose session the page's engine worker holds, and
    ``measured`` the times the page recorded on earlier runs: what the widget predicts the
    browser's speed from.
    """

    view: str
    have: frozenset[str]
    caps: dict[str, Any]
    blocker: str | None
    warm: str | None = None
    measured: tuple[Measured, ...] = ()


@dataclass(frozen=True)
class Ack:
    """A view stored chunk ``seq`` of ``sha256``."""

    view: str
    sha256: str
    seq: int


# ---------------------------------------------------------------------- field readers
def _kind(msg: dict[str, Any]) -> str:
    kind = msg.get("type")
    return kind if isinstance(kind, str) and len(kind) <= MAX_NAME else "?"


def get(msg: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``msg[key]`` if it is of type ``kind`` (a bool is never an int here)."""
    if key not in msg:
        raise WireError(f"{_kind(msg)} message lacks {key!r}")
    value = msg[key]
    if isinstance(value, bool) and kind is not bool:
        raise WireError(f"{key!r} must be {_names(kind)}, got a bool")
    if not isinstance(value, kind):
        raise WireError(f"{key!r} must be {_names(kind)}, got {type(value).__name__}")
    return value


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def integer(msg: dict[str, Any], key: str, lo: int, hi: int) -> int:
    """Return ``msg[key]`` if it is an integer in ``lo..hi`` (a float is never an integer)."""
    value = get(msg, key, int)
    if not lo <= value <= hi:
        raise WireError(f"{key!r} must be in {lo}..{hi}, got {shown(value)}")
    return int(value)


def nonneg(msg: dict[str, Any], key: str) -> int:
    """Return ``msg[key]`` if it is an integer in ``0..MAX_SAFE_INTEGER``."""
    value = get(msg, key, int)
    if value < 0:
        raise WireError(f"{key!r} must be >= 0, got {shown(value)}")
    if value > MAX_SAFE_INTEGER:
        raise WireError(f"{key!r} must be <= {MAX_SAFE_INTEGER}, got {shown(value)}")
    return int(value)


def number(msg: dict[str, Any], key: str, lo: float = 0.0) -> float:
    """Return ``msg[key]`` as a float if it is a finite number >= ``lo``."""
    value = get(msg, key, (int, float))
    try:
        out = float(value)
    except OverflowError:  # an integer beyond float range
        out = math.inf
    if not math.isfinite(out) or out < lo:
        raise WireError(f"{key!r} must be a finite number >= {lo:g}, got {shown(value)}")
    return out


def flag(msg: dict[str, Any], key: str) -> bool:
    """Return ``msg[key]`` if it is a boolean (``"no"`` and ``1`` are not)."""
    return bool(get(msg, key, bool))


def name(msg: dict[str, Any], key: str, allowed: tuple[str, ...] | None = None) -> str:
    """Return ``msg[key]`` if it is a short identifier (one of ``allowed`` when given)."""
    value = get(msg, key, str)
    if not 0 < len(value) <= MAX_NAME:
        raise WireError(f"{key!r} must be 1..{MAX_NAME} characters, got {len(value)}")
    if allowed is not None and value not in allowed:
        raise WireError(f"{key!r} must be one of {allowed}, got {shown(value)}")
    return str(value)


def view_id(msg: dict[str, Any]) -> str:
    """Return the message's ``view`` id (1..64 characters)."""
    value = get(msg, "view", str)
    if not 0 < len(value) <= MAX_VIEW_ID:
        raise WireError(f"'view' must be 1..{MAX_VIEW_ID} characters, got {len(value)}")
    return str(value)


def text(msg: dict[str, Any], key: str) -> str:
    """Return ``msg[key]`` if it is a string, cut to :data:`MAX_TEXT` characters."""
    return _cut(get(msg, key, str))


def optional(msg: dict[str, Any], key: str, read: Callable[[dict[str, Any], str], M]) -> M | None:
    """``read(msg, key)``, or None when ``key`` is absent or null."""
    return None if msg.get(key) is None else read(msg, key)


def _cut(value: str) -> str:
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def shown(value: object) -> str:
    """``repr(value)`` short enough for an error line (a view may send megabytes)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**12:
        return f"an integer of {value.bit_length()} bits"
    out = repr(value)
    return out if len(out) <= 60 else out[:57] + "..."


def timings(raw: dict[str, Any]) -> dict[str, float]:
    """Return a ``{stage: milliseconds}`` object whose values are finite numbers >= 0."""
    if len(raw) > MAX_ENTRIES:
        raise WireError(f"'timings' has {len(raw)} entries; at most {MAX_ENTRIES}")
    out: dict[str, float] = {}
    for k in raw:
        if not isinstance(k, str) or not 0 < len(k) <= MAX_NAME:
            raise WireError(f"timing names must be 1..{MAX_NAME} characters, got {shown(k)}")
        out[k] = number(raw, k)
    return out


def threads(msg: dict[str, Any], key: str) -> int:
    """WebAssembly threads a view ran with: an integer in ``1..MAX_THREADS``."""
    return integer(msg, key, 1, MAX_THREADS)


def execution_provider(msg: dict[str, Any], key: str) -> str:
    """``"wasm"`` or ``"webgpu"``."""
    return name(msg, key, EXECUTION_PROVIDERS)


def mask_size(msg: dict[str, Any]) -> tuple[int, int]:
    """``(width, height)`` of a mask header, both >= 1 (the widget compares them to the image)."""
    width, height = nonneg(msg, "width"), nonneg(msg, "height")
    if width == 0 or height == 0:
        raise WireError(f"mask size {width}x{height} is empty")
    return width, height


def chunk_count(msg: dict[str, Any]) -> int:
    """Return the header's ``total`` chunks (>= 1)."""
    return integer(msg, "total", 1, MAX_SAFE_INTEGER)


def checksum(msg: dict[str, Any]) -> int:
    """Return the pixels checksum a view computed (``0..2**32 - 1``)."""
    return integer(msg, "checksum", 0, MAX_CHECKSUM)


def one_buffer(buffers: list[Any] | None, kind: str) -> bytes:
    """Return the message's single binary buffer, 1..:data:`MAX_MASK_CHUNK` bytes.

    Only bytes-like objects count: ``bytes(n)`` of an integer would allocate ``n`` bytes.
    """
    if not isinstance(buffers, list | tuple) or len(buffers) != 1:
        raise WireError(f"{kind} needs exactly one binary buffer")
    buf = buffers[0]
    if not isinstance(buf, bytes | bytearray | memoryview):
        raise WireError(f"{kind}'s buffer must be binary, got {type(buf).__name__}")
    size = buf.nbytes if isinstance(buf, memoryview) else len(buf)
    if size > MAX_MASK_CHUNK:
        raise WireError(f"mask chunk of {size} bytes exceeds {MAX_MASK_CHUNK}")
    if size == 0:
        raise WireError(f"{kind}'s buffer is empty")
    return bytes(buf)


def capabilities(raw: dict[str, Any]) -> dict[str, Any]:
    """Return the known capabilities of a ``hello``, each type-checked; unknown keys are dropped.

    Booleans must be booleans, ``hardwareConcurrency`` an integer in ``1..4096``,
    ``webgpuAdapter`` and ``userAgent`` text or null. A missing key stays missing.
    """
    out: dict[str, Any] = {}
    for key in BOOL_CAPS:
        if key in raw:
            out[key] = flag(raw, key)
    if "hardwareConcurrency" in raw:
        out["hardwareConcurrency"] = integer(raw, "hardwareConcurrency", 1, MAX_CORES)
    if raw.get("deviceMemory") is not None:
        gb = number(raw, "deviceMemory")
        if gb > MAX_DEVICE_MEMORY_GB:
            raise WireError(f"'deviceMemory' must be <= {MAX_DEVICE_MEMORY_GB:g}, got {shown(gb)}")
        out["deviceMemory"] = gb
    for key in TEXT_CAPS:
        if key in raw:
            out[key] = optional(raw, key, text)
    return out


def measured_run(raw: Any) -> Measured:
    """Validate one ``perf`` entry of a ``hello`` (times are finite and >= 0, or null)."""
    if not isinstance(raw, dict):
        raise WireError(f"a 'perf' entry must be an object, got {type(raw).__name__}")
    size = get(raw, "resolution", list)
    if len(size) != 2:
        raise WireError(f"'resolution' must be [height, width], got {shown(size)}")
    side = {"h": size[0], "w": size[1]}
    resolution = (integer(side, "h", 1, MAX_SIDE), integer(side, "w", 1, MAX_SIDE))
    return Measured(
        name(raw, "model"),
        execution_provider(raw, "ep"),
        threads(raw, "threads"),
        resolution,
        optional(raw, "session_ms", number),
        optional(raw, "inference_ms", number),
    )


# ---------------------------------------------------------------------- shared messages
COMMON_TYPES = ("hello", "ack")


def parse_common(content: dict[str, Any], buffers: list[Any] | None) -> Hello | Ack:
    """Validate a ``hello`` or ``ack``, the messages every view of every widget sends."""
    kind = get(content, "type", str)
    view = view_id(content)
    if kind == "hello":
        have = get(content, "have", list)
        if len(have) > MAX_CACHED:
            raise WireError(f"'have' lists {len(have)} assets; at most {MAX_CACHED}")
        if not all(isinstance(h, str) and len(h) <= MAX_NAME for h in have):
            raise WireError("'have' must be a list of sha256 strings")
        caps = capabilities(get(content, "caps", dict))
        warm = optional(content, "warm", name)
        perf = content.get("perf") or []
        if not isinstance(perf, list) or len(perf) > MAX_MEASURED:
            raise WireError(f"'perf' must be a list of at most {MAX_MEASURED} runs")
        measured = tuple(measured_run(p) for p in perf)
        return Hello(
            view, frozenset(have), caps, optional(content, "blocker", text), warm, measured
        )
    if kind == "ack":
        return Ack(view, name(content, "sha256"), nonneg(content, "seq"))
    raise WireError(f"{shown(kind)} is not a message every view sends")


def receive(
    widget: Any,
    parse: Callable[[Any, list[Any] | None], M],
    dispatch: Callable[[M], None],
    content: Any,
    buffers: list[Any] | None,
) -> None:
    """Parse one custom message and dispatch it; nothing a view sends may crash the kernel.

    A malformed message and an exception while handling it both end up in the
    widget's ``error`` trait (and the log), naming the problem; a message that is
    accepted and handled clears ``error``. ``dispatch`` must check everything it
    depends on (sizes, the widget's state) before it changes anything, so a
    rejected message leaves the widget as it was.

    Parameters
    ----------
    widget : anywidget.AnyWidget
        The receiving widget; it must have an ``error`` trait.
    parse : callable
        Validates ``(content, buffers)`` into a message object or raises :class:`WireError`.
    dispatch : callable
        Handles the parsed message (raising :class:`WireError` to reject it).
    content, buffers
        The custom message as ipywidgets delivers it.

    """
    try:
        msg = parse(content, buffers)
        dispatch(msg)
    except WireError as exc:
        log.error("malformed message from the front end: %s", exc)
        widget.set_trait("error", f"malformed message from the front end: {exc}")
        return
    except Exception as exc:  # a view must never take the kernel down
        log.exception("pixel-liberation widget failed on a %s message", _kind_of(content))
        widget.set_trait("error", f"{type(exc).__name__}: {exc}")
        return
    if widget.error:
        widget.set_trait("error", "")


def _kind_of(content: object) -> str:
    return _kind(content) if isinstance(content, dict) else type(content).__name__
