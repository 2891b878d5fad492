"""Product photos from the widget: ``w.product_photo(...)`` and the view's export panel.

:class:`ProductPhotos` is mixed into ``BackgroundRemover``. In Python it frames the
widget's pixels and its edited mask (:attr:`mask`) with
:func:`~segmentation.product.photo.make_product_photo`; in the browser the view's export
panel (``js/src/remover/export-panel.ts``) runs the same step in the page's engine worker
on the view's decoded pixels and the editor's current mask, with the presets of
:attr:`product_presets`. Both sides frame the same pixels: a photo tagged with another
colour profile (Display P3) is converted to sRGB once, when the widget is made, and the
view is sent the converted pixels (see :mod:`widget.transfer.encoded`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import traitlets as t
from ipywidgets import DOMWidget

from segmentation.images import LoadedImage
from segmentation.product.photo import ProductPhoto, make_product_photo
from segmentation.product.presets import (
    BUILTIN,
    PresetArg,
    load_presets,
    panel_presets,
    resolve_preset,
)
from segmentation.product.spec import ProductSpec, ProductSpecError
from widget.remover.editing import MaskEditing


class ProductPhotos(DOMWidget):
    """Product photos of the widget's image and edited mask (mixed into ``BackgroundRemover``).

    The host class mixes in :class:`widget.remover.editing.MaskEditing` too (its pixels and
    edited mask are framed).
    """

    product_presets = t.List(t.Dict(), read_only=True).tag(sync=True)
    """The presets the view's export panel offers: ``{"name", "spec", "note"}`` each
    (:func:`~segmentation.product.presets.panel_presets`), built-in ones first, then those
    added with :meth:`add_product_presets`. Presets with a background image are left out (the
    file is in the kernel's reach, not the browser's): use :meth:`product_photo` for those.

    - Type: ``list[dict]``
    - Default: the built-in presets
    """

    def __init__(self, **kwargs: Any) -> None:
        self._user_presets: dict[str, ProductSpec] = {}
        super().__init__(**kwargs)
        self._offer_presets()

    def _edited(self) -> tuple[LoadedImage, np.ndarray]:
        """Return the widget's pixels and its edited mask (the host mixes in ``MaskEditing``)."""
        if not isinstance(self, MaskEditing):
            raise TypeError(f"{type(self).__name__} must mix in MaskEditing too")
        return self._editing_image(), self.mask

    # ------------------------------------------------------------------ public API
    def product_photo(self, preset: PresetArg | None = None, **overrides: Any) -> ProductPhoto:
        """Frame the subject as a product photo: the widget's pixels, its edited mask.

        What the view's export panel shows for the same preset, pixel for pixel (before
        JPEG/WebP encoding).

        Parameters
        ----------
        preset : str, path, dict or ProductSpec, optional
            A built-in preset (``"amazon"``, the default, ``"shopify"``, ``"transparent"``),
            one added with :meth:`add_product_presets`, a JSON file or a dict
            (see :func:`~segmentation.product.presets.resolve_preset`).
        **overrides
            Fields to change (``fill=0.9``, ``canvas="1600x1600"``, ``shadow=True``...).

        Returns
        -------
        ProductPhoto
            ``.pixels`` (RGBA), ``.save(path)``, ``.data`` (the encoded file).

        Raises
        ------
        ProductSpecError
            An unknown preset or field, a value out of range, a canvas above the pixel limit.
        ImageError
            The preset's background image does not decode.
        NoSubjectError
            The mask holds no subject.

        """
        spec = resolve_preset(preset, user=self._user_presets, **overrides)
        image, mask = self._edited()
        return make_product_photo(image, mask, spec)

    def add_product_presets(
        self, presets: str | os.PathLike[str] | Mapping[str, Mapping[str, Any]]
    ) -> list[str]:
        """Offer more presets, in the export panel and to :meth:`product_photo` by name.

        Parameters
        ----------
        presets : path or dict
            A JSON file as ``--preset-file`` reads it (``{"presets": {name: {...}}}``), or
            a dict ``{name: {...}}``; an entry may extend a built-in preset or one before it.

        Returns
        -------
        list of str
            The names now offered.

        Raises
        ------
        ProductSpecError
            A preset is invalid (the message names it); nothing is added then.

        """
        if isinstance(presets, Mapping):
            known = {**BUILTIN, **self._user_presets}
            added: dict[str, ProductSpec] = {}
            for name, obj in presets.items():
                if not isinstance(name, str) or not name.strip():
                    raise ProductSpecError("preset names must be non-empty strings")
                if not isinstance(obj, Mapping):
                    raise ProductSpecError(f"preset {name!r} must be an object")
                known[name] = added[name] = resolve_preset({**obj, "name": name}, user=known)
        else:
            added = load_presets(presets)
        self._user_presets.update(added)
        self._offer_presets()
        return [p["name"] for p in self.product_presets]

    def _offer_presets(self) -> None:
        offered = [
            p
            for p in panel_presets(self._user_presets)
            if p["spec"].get("background_image") is None
        ]
        self.set_trait("product_presets", offered)
