"""Read-only traits of :class:`widget.batch.widget.BatchRemover`, synced to its views.

The kernel is their only writer (from the views' validated messages); the views
display them.
"""

from __future__ import annotations

import traitlets as t
from ipywidgets import DOMWidget


class BatchTraits(DOMWidget):
    """Traits describing a batch's progress."""

    status = t.Unicode("waiting for a browser", read_only=True).tag(sync=True)
    """What the batch is doing, e.g. ``"running: 3 / 8 (3 in the browser)"``."""

    error = t.Unicode("", read_only=True).tag(sync=True)
    """The last error (a rejected message from the front end); empty if none.

    The next message that is accepted clears it; the log keeps every one."""

    total = t.Int(0, read_only=True).tag(sync=True)
    """Images in the batch, unreadable ones included."""

    done = t.Int(0, read_only=True).tag(sync=True)
    """Images with a mask or a final error."""

    workers = t.Int(0, read_only=True).tag(sync=True)
    """Pool workers the view runs the batch on (0 until it said)."""

    worker_activity = t.List(t.Unicode(), [], read_only=True).tag(sync=True)
    """Per pool worker: ``"image 3"`` while it runs one, ``"idle"`` otherwise."""

    capabilities = t.Dict({}, read_only=True).tag(sync=True)
    """What the browser reported in its ``hello`` (see :mod:`widget.remover.state`)."""

    progress = t.Float(0.0, read_only=True).tag(sync=True)
    """Fraction of the transfer to the browser acknowledged."""

    model_key = t.Unicode("", read_only=True).tag(sync=True)
    """The model run, as ``name:precision``."""

    layout = t.Unicode("", read_only=True).tag(sync=True)
    """How the view ran the batch: ``"W workers x T threads: why"`` (empty until it said).

    - Type: ``str``
    - Default: ``""``
    """
