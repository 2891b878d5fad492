"""Background removal models, the same pre/post-processing for kernel and browser.

No Jupyter imports here: the notebook widget lives in the ``widget`` package.
"""

from segmentation._version import __version__
from segmentation.catalog import (
    DEFAULT_MODEL,
    DEFAULT_PRECISION,
    ModelSpec,
    Registry,
    builtin_registry,
    default_registry,
)
from segmentation.errors import (
    ImageError,
    ModelIntegrityError,
    ModelNotFoundError,
    SegmentationError,
    UnknownModelError,
)

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_PRECISION",
    "ImageError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelSpec",
    "Registry",
    "SegmentationError",
    "UnknownModelError",
    "__version__",
    "builtin_registry",
    "default_registry",
]
