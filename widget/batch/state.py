"""Read-only traits of :class:`widget.batch.widget.BatchRemover`, synced to its views.

The kernel is their only writer (from the views' validated messages); the views
display them.
"""

from __future__ import annotations

import traitlets as t

from widget.link.traits import LinkTraits


class BatchTraits(LinkTraits):
    """Traits describing a batch's progress (and :class:`LinkTraits`)."""

    total = t.Int(0, read_only=True).tag(sync=True)
    """Images in the batch, unreadable ones included."""

    done = t.Int(0, read_only=True).tag(sync=True)
    """Images with a mask or a final error."""

    workers = t.Int(0, read_only=True).tag(sync=True)
    """Pool workers the view runs the batch on (0 until it said)."""

    worker_activity = t.List(t.Unicode(), [], read_only=True).tag(sync=True)
    """Per pool worker: ``"image 3"`` while it runs one, ``"idle"`` otherwise."""

    layout = t.Unicode("", read_only=True).tag(sync=True)
    """How the view ran the batch: ``"W workers x T threads: why"`` (empty until it said).

    - Type: ``str``
    - Default: ``""``
    """
