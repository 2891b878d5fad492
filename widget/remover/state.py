"""Read-only traits of :class:`widget.remover.widget.BackgroundRemover`, synced to the views.

The kernel is their only writer (from the views' validated messages); the views
display them. Each trait documents its type and default.
"""

from __future__ import annotations

import traitlets as t

from widget.link.traits import LinkTraits


class EngineTraits(LinkTraits):
    """Traits describing where and how the mask was computed (and :class:`LinkTraits`)."""

    backend_used = t.Unicode("", read_only=True).tag(sync=True)
    """Who computed :attr:`mask`: ``"browser"`` or ``"kernel"`` (empty until one did).

    - Type: ``str``
    - Default: ``""``
    """

    backend = t.Unicode("auto", read_only=True).tag(sync=True)
    """The backend asked for: ``"auto"``, ``"browser"`` or ``"kernel"``.

    - Type: ``str``
    - Default: ``"auto"``
    """

    execution_provider = t.Unicode("", read_only=True).tag(sync=True)
    """onnxruntime-web execution provider the browser used: ``"webgpu"`` or ``"wasm"``.

    - Type: ``str``
    - Default: ``""``
    """

    webgpu_fallback_reason = t.Unicode("", read_only=True).tag(sync=True)
    """Why the browser ran the wasm provider although it has a WebGPU adapter: the model
    needs float16 shaders the adapter lacks, or the WebGPU session could not be created or
    run, or its mask of the probe image disagreed with the kernel's. Empty if WebGPU ran,
    or was not an option (no adapter, ``execution_provider="wasm"``).

    - Type: ``str``
    - Default: ``""``
    """

    threads = t.Int(0, read_only=True).tag(sync=True)
    """WebAssembly threads the browser ran with (1 unless the page is cross-origin isolated).

    - Type: ``int``
    - Default: ``0`` (not run yet)
    """

    cross_origin_isolated = t.Bool(False, read_only=True).tag(sync=True)
    """Whether the page is cross-origin isolated (needed for WebAssembly threads).

    - Type: ``bool``
    - Default: ``False``
    """

    fallback_reason = t.Unicode("", read_only=True).tag(sync=True)
    """Why the kernel computed the mask instead of the browser; empty if it did not.

    - Type: ``str``
    - Default: ``""``
    """

    timings = t.Dict({}, read_only=True).tag(sync=True)
    """Milliseconds spent: ``transfer``, ``decode``, ``session_create``, ``inference``,
    ``total`` (browser), or ``inference`` and ``total`` (kernel).

    - Type: ``dict``
    - Default: ``{}``
    """

    threads_hint = t.Unicode("", read_only=True).tag(sync=True)
    """One line the view shows when the page is not cross-origin isolated (one thread):
    the command that enables threads (``python -m widget threads on``) and the measured
    gain; empty when isolated or before a view said hello.

    - Type: ``str``
    - Default: ``""``
    """

    resolution = t.List(t.Int(), [], read_only=True).tag(sync=True)
    """Model input ``[height, width]`` of the full mask (browser and kernel twin alike).

    - Type: ``list`` of ``int``
    - Default: ``[]`` (set on creation: the ``resolution`` asked, else the model's)
    """

    preview_resolution = t.Int(0, read_only=True).tag(sync=True)
    """Side of the browser's first, low-resolution pass; 0: no preview pass.

    - Type: ``int``
    - Default: ``0`` (set on creation)
    """

    variant_reason = t.Unicode("", read_only=True).tag(sync=True)
    """Why :attr:`model_key` is the variant that runs: with a WebGPU adapter and no
    ``precision`` asked, the float variant the adapter can run (fp16 with ``shader-f16``,
    else fp32) replaces static int8, which stays on wasm; empty before a view said hello.

    - Type: ``str``
    - Default: ``""``
    """

    first_source = t.Unicode("", read_only=True).tag(sync=True)
    """Who gave the first full mask: ``"browser"`` or ``"kernel"`` (empty until one did).
    :attr:`backend_used` says whose mask :attr:`mask` is now: the browser's when it arrived
    later and was byte-identical to the kernel's.

    - Type: ``str``
    - Default: ``""``
    """

    route_reason = t.Unicode("", read_only=True).tag(sync=True)
    """Why the first answer came from :attr:`first_source`: e.g. the model is not cached in
    this browser, or the browser's predicted time is longer than ``patience``.

    - Type: ``str``
    - Default: ``""``
    """

    parity = t.Unicode("", read_only=True).tag(sync=True)
    """The browser's mask against the kernel's once both exist: ``"identical"``, or
    ``"differs: IoU ..., N pixels"`` (then :attr:`mask` stays the first answer); empty until
    both exist. When the browser answers first the kernel computes nothing more, so it stays
    empty until :meth:`compare` asks for the kernel's mask.

    - Type: ``str``
    - Default: ``""``
    """
