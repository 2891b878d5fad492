"""Notebook widgets of pixel-liberation (anywidget)."""

from segmentation._version import __version__
from widget.batch import BatchRemover
from widget.remover import BackgroundRemover

__all__ = ["BackgroundRemover", "BatchRemover", "__version__"]
