"""Exceptions with messages meant for people: each names the problem and the way out."""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class of every error this package raises on purpose."""


class UnknownModelError(SegmentationError, KeyError):
    """A model name or precision that the registry does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ModelNotFoundError(SegmentationError, FileNotFoundError):
    """The model file is not on this machine and could not be obtained."""


class ModelIntegrityError(SegmentationError):
    """A model file or chunk is truncated, corrupt or fails its checksum."""


class UnverifiedModelError(ModelIntegrityError):
    """A cached model file that nothing can vouch for: no sidecar and no checksum to compare."""


class ImageError(SegmentationError, ValueError):
    """An image that cannot be read or is unsafe to decode."""
