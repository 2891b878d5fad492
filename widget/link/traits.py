"""Traits every widget with views syncs (:class:`~widget.link.view_link.ViewLink` sets them).

The kernel is their only writer, from the views' validated messages; the views display them.
"""

from __future__ import annotations

import traitlets as t
from ipywidgets import DOMWidget


class LinkTraits(DOMWidget):
    """What a widget is doing, what went wrong, and what its browser can do."""

    status = t.Unicode("waiting for a browser", read_only=True).tag(sync=True)
    """What the widget is doing, in words (also shown in the view); made from
    :attr:`status_info`.

    - Type: ``str``
    - Default: ``"waiting for a browser"``
    """

    status_info = t.Dict({"stage": "waiting", "source": "", "kind": "busy"}, read_only=True).tag(
        sync=True
    )
    """The status as data (:class:`widget.link.status.Status`): ``stage`` (``waiting``,
    ``sending``, ``loading``, ``running``, ``preview``, ``done``, ``failed``), ``source``
    (``browser``, ``kernel``, ``mixed`` or empty), ``kind`` (how the view draws it: ``busy``,
    ``done``, ``warn``, ``error``) and, when known, ``seconds``, ``sent`` and ``total``.

    - Type: ``dict``
    - Default: ``{"stage": "waiting", "source": "", "kind": "busy"}``
    """

    error = t.Unicode("", read_only=True).tag(sync=True)
    """The last error (a message from the front end that was rejected, a failure); empty
    if none. The next message that is accepted clears it; the log keeps every one.

    - Type: ``str``
    - Default: ``""``
    """

    capabilities = t.Dict({}, read_only=True).tag(sync=True)
    """What the browser reported in its ``hello``: ``wasm``, ``simd``, ``threads``,
    ``webgpu``, ``webgpuAdapter``, ``worker``, ``indexedDB``, ``hardwareConcurrency``…

    - Type: ``dict``
    - Default: ``{}``
    """

    progress = t.Float(0.0, read_only=True).tag(sync=True)
    """Fraction of the transfer to the browser acknowledged (1.0 once a result exists).

    - Type: ``float``
    - Default: ``0.0``
    """

    model_key = t.Unicode("", read_only=True).tag(sync=True)
    """The model run, as ``name:precision``.

    - Type: ``str``
    - Default: ``""``
    """
