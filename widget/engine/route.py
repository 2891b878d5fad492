"""Who gives a :class:`~widget.remover.widget.BackgroundRemover` its first full mask.

With ``backend="auto"`` the kernel twin answers first whenever the browser cannot deliver the
full mask within ``patience`` seconds; the browser still computes its own mask, which is then
held against the kernel's (the two are byte-identical: same file, same pixels, same graph).
:func:`predict_browser` estimates the browser's time to the full mask from what its ``hello``
says (:class:`BrowserReport`): which assets it has cached, whether its engine worker holds a
session of this model, the times it measured on earlier runs of this model (kept per model
in the page's IndexedDB), its cores, threads, memory and GPU. :func:`choose` turns that into a
:class:`Route` with the reason in words. Everything here is arithmetic on validated numbers:
no I/O, no widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from widget.protocol.common import Hello, Measured

#: Bytes per second the kernel -> browser websocket is assumed to carry (measured 50-150 MB/s
#: raw on one machine; remote kernels are slower).
TRANSFER_BPS = 30e6
#: A session's creation, per MB of model, when the page never measured it (IS-Net static int8,
#: 45 MB: 3-4 s on one WebAssembly thread).
SESSION_MS_PER_MB = 80.0
#: The first session in a page also starts the WebAssembly runtime.
RUNTIME_START_MS = 500.0
#: Inference per MB of model at a 1024x1024 input on one WebAssembly thread, when the page never
#: measured it (IS-Net static int8, 45 MB: ~8 s). Scaled by the input's pixels and the threads.
INFER_MS_PER_MB = 180.0
#: What a GPU is assumed to divide that by before a page measured it.
WEBGPU_SPEEDUP = 5.0
#: Decoding and drawing the photo, per megapixel.
DECODE_MS_PER_MP = 40.0
#: An IS-Net session grows to about this much memory per MB of model (~1 GB for 45 MB).
SESSION_BYTES_PER_MODEL_BYTE = 22.0


@dataclass(frozen=True)
class BrowserReport:
    """What a view's ``hello`` says that bears on its speed."""

    have: frozenset[str]
    warm: str | None
    """sha256 of the model whose session the page's engine worker holds, if any."""
    measured: tuple[Measured, ...]
    threads: int
    """WebAssembly threads the page can give a session (1 unless cross-origin isolated)."""
    webgpu: bool
    device_memory_gb: float | None

    @classmethod
    def of(cls, hello: Hello) -> BrowserReport:
        """Read what ``hello`` reported (its capabilities were validated by the protocol)."""
        caps: dict[str, Any] = hello.caps
        isolated = caps.get("crossOriginIsolated") is True and caps.get("threads") is True
        cores = caps.get("hardwareConcurrency")
        threads = min(4, cores) if isolated and isinstance(cores, int) else 1
        memory = caps.get("deviceMemory")
        return cls(
            hello.have,
            hello.warm,
            hello.measured,
            threads,
            caps.get("webgpu") is True,
            float(memory) if isinstance(memory, int | float) else None,
        )


@dataclass(frozen=True)
class Job:
    """What the browser would have to do."""

    model_sha: str
    model_bytes: int
    wasm_sha: str
    wasm_bytes: int
    image_bytes: int
    image_pixels: int
    resolution: tuple[int, int]
    ep: str


@dataclass(frozen=True)
class Prediction:
    """The browser's predicted milliseconds to the full mask, by stage."""

    transfer_ms: float
    session_ms: float
    inference_ms: float
    decode_ms: float
    measured: bool
    """Whether the inference time comes from this page's own earlier runs."""

    @property
    def total_ms(self) -> float:
        """Milliseconds from the plan to the full mask."""
        return self.transfer_ms + self.session_ms + self.inference_ms + self.decode_ms


@dataclass(frozen=True)
class Route:
    """Who answers first, and why."""

    first: Literal["browser", "kernel"]
    reason: str
    prediction: Prediction | None = None


def predict_browser(report: BrowserReport, job: Job) -> Prediction:
    """Estimate the browser's time to the full mask of ``job`` (see the module's constants)."""
    missing = job.image_bytes
    if job.model_sha not in report.have:
        missing += job.model_bytes
    if job.wasm_sha not in report.have:
        missing += job.wasm_bytes
    transfer = missing / TRANSFER_BPS * 1000.0
    mb = job.model_bytes / 1e6
    mine = [m for m in report.measured if m.model == job.model_sha]
    if report.warm == job.model_sha:
        session = 0.0
    else:
        created = [m.session_ms for m in mine if m.session_ms is not None]
        session = min(created) if created else RUNTIME_START_MS + SESSION_MS_PER_MB * mb
    same = [
        m.inference_ms
        for m in mine
        if m.inference_ms is not None and m.ep == job.ep and m.resolution == job.resolution
    ]
    if same:
        inference, measured = min(same), True
    else:
        scale = job.resolution[0] * job.resolution[1] / (1024 * 1024)
        inference = INFER_MS_PER_MB * mb * scale / max(1, report.threads)
        if job.ep == "webgpu":
            inference /= WEBGPU_SPEEDUP
        measured = False
    decode = DECODE_MS_PER_MP * job.image_pixels / 1e6
    return Prediction(transfer, session, inference, decode, measured)


def choose(report: BrowserReport, job: Job, patience_s: float) -> Route:
    """Kernel first when the browser's predicted time exceeds ``patience_s``, else browser.

    A page with less memory than a session of this model needs is never asked to answer
    first (``navigator.deviceMemory``; it may still compute its own mask later).
    """
    p = predict_browser(report, job)
    if report.device_memory_gb is not None:
        need_gb = job.model_bytes * SESSION_BYTES_PER_MODEL_BYTE / 1e9
        if report.device_memory_gb < need_gb:
            has = f"{report.device_memory_gb:g} GB"
            why = f"the browser reports {has} of memory, a session of this model needs"
            why += f" ~{need_gb:.1f} GB"
            return Route("kernel", why, p)
    patience_ms = patience_s * 1000.0
    if p.total_ms <= patience_ms:
        how = "measured" if p.measured else "estimated"
        return Route("browser", f"the browser's {how} time is {p.total_ms / 1000:.1f} s", p)
    return Route("kernel", _slowest(p, job, report, patience_s), p)


def _slowest(p: Prediction, job: Job, report: BrowserReport, patience_s: float) -> str:
    """Say what keeps the browser over the patience: the biggest of its stages."""
    stages = {
        "transfer": p.transfer_ms,
        "session": p.session_ms,
        "inference": p.inference_ms,
        "decode": p.decode_ms,
    }
    worst = max(stages, key=lambda k: stages[k])
    if worst == "transfer":
        what = "the model is not cached in this browser yet"
        if job.model_sha in report.have:
            what = "the WebAssembly runtime is not cached in this browser yet"
    elif worst == "session":
        what = "the browser has no session of this model yet"
    elif worst == "inference":
        threads = f"{report.threads} thread{'s' * (report.threads > 1)}"
        how = "measured" if p.measured else "estimated"
        on = "WebGPU" if job.ep == "webgpu" else f"{threads} of WebAssembly"
        what = f"the model takes ~{p.inference_ms / 1000:.1f} s on {on} here ({how})"
    else:
        what = "the photo takes long to decode"
    return (
        f"{what}: the browser would need ~{p.total_ms / 1000:.1f} s, patience is {patience_s:g} s"
    )
