"""Notebook widgets of pixel-liberation (anywidget).

``remover`` (:class:`BackgroundRemover`, one image, with the mask editor),
``batch`` (:class:`BatchRemover`, many images on a worker pool), ``benchmark``
(variants timed in the user's own tab); below them ``protocol`` (the validated
messages of every view, twin of ``js/src/protocol/``), ``transfer`` (assets
and acknowledged chunks to the browser) and ``engine`` (kernel twin, WebGPU plan).
"""

from segmentation._version import __version__
from widget.batch import BatchRemover
from widget.remover import BackgroundRemover

__all__ = ["BackgroundRemover", "BatchRemover", "__version__"]
