"""Notebook widgets of pixel-liberation (anywidget)."""

from segmentation._version import __version__

__all__ = ["__version__"]
