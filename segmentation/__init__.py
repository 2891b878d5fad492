"""Background removal models, the same pre/post-processing for kernel and browser.

>>> from segmentation import remove, Segmenter, load_image
>>> remove("photo.jpg").save("cutout.png")        # one call, RGBA
>>> seg = Segmenter()                               # IS-Net, static int8, reused
>>> mask = seg.mask(load_image("photo.jpg"))        # uint8 [H, W]
>>> rows = remove_many(["photos/"], "cutouts/")     # many images, every core, resumable
>>> product_photo("mug.jpg", "amazon").save("mug.jpg")  # framed on white, 2000x2000

The package is layered, each folder knowing only those below it:
``models`` (what a model is, where its bytes come from, integrity) <
``conversion`` (making one model file from another) < ``store`` (the model cache)
< ``session`` (running it) < ``jobs`` (many images, local pool or Dask) <
``evaluation`` and ``cli``; ``product`` (the product-photo step) needs none of the
model layers and sits below ``session``, which offers it. At the top level:
``images`` (the one image loader) and ``pixels``, ``cutouts``, ``mask_edits``,
``image_batch``, ``files`` (atomic writes, hashing), ``config`` and ``errors``.
No Jupyter imports here: the notebook widgets live in the ``widget`` package.
"""

from segmentation._version import __version__
from segmentation.errors import (
    ImageError,
    ModelIntegrityError,
    ModelNotFoundError,
    SegmentationError,
    UnknownModelError,
)
from segmentation.images import LoadedImage, load_image
from segmentation.jobs import ManifestRow, remove_many
from segmentation.models.registry import Registry, builtin_registry, default_registry
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION, ModelSpec
from segmentation.product.framing import NoSubjectError
from segmentation.product.photo import ProductPhoto
from segmentation.product.presets import load_presets, resolve_preset
from segmentation.product.spec import ProductSpec, ProductSpecError
from segmentation.session import Segmenter, get_segmenter, product_photo, remove

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_PRECISION",
    "ImageError",
    "LoadedImage",
    "ManifestRow",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelSpec",
    "NoSubjectError",
    "ProductPhoto",
    "ProductSpec",
    "ProductSpecError",
    "Registry",
    "SegmentationError",
    "Segmenter",
    "UnknownModelError",
    "__version__",
    "builtin_registry",
    "default_registry",
    "get_segmenter",
    "load_image",
    "load_presets",
    "product_photo",
    "remove",
    "remove_many",
    "resolve_preset",
]
