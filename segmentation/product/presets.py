"""Built-in product-photo presets, each with where its numbers come from, and user presets.

A preset is a :class:`~segmentation.product.spec.ProductSpec`. Users give their own as a
dict or a JSON file (an object, or ``{"presets": {name: object, ...}}``); an object may
start from a built-in one with ``"extends": "amazon"`` and change what differs. Every field
is validated (:func:`~segmentation.product.spec.spec_from_dict`), so a typo is a one-line
error before any image is touched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from segmentation.product.spec import (
    WHITE,
    Length,
    ProductSpec,
    ProductSpecError,
    Shadow,
    spec_from_dict,
)

#: Where each built-in preset's rules are published, and what is our own choice.
SOURCES: dict[str, str] = {
    "amazon": (
        "Amazon Seller Central, 'Product image requirements' (main image): pure white "
        "background RGB 255,255,255; the product fills 85% or more of the frame; longest side "
        "at least 1000 px for zoom (1600 px or more recommended); JPEG preferred; sRGB. "
        "https://sellercentral.amazon.com/help/hub/reference/external/G1881 . "
        "Our choices: 2000x2000 square, subject centred, no shadow (main images allow none), "
        "JPEG quality 90."
    ),
    "shopify": (
        "Shopify Help Center, 'Product media types' (images): 2048x2048 px usually displays "
        "best for square product images; JPEG, PNG, WebP accepted; 20 MB per file. "
        "https://help.shopify.com/en/manual/products/product-media/product-media-types . "
        "Shopify sets no background or fill rule: white, 80% fill, a soft shadow and JPEG "
        "quality 90 are our choices."
    ),
    "transparent": (
        "No marketplace rule: the subject cropped with a 5% margin at the photo's own "
        "resolution, transparent PNG with decontaminated edges (what remove.bg's API gives "
        "with crop=true, crop_margin=5%, channels=rgba), ready to be put on any background."
    ),
}

BUILTIN: dict[str, ProductSpec] = {
    "amazon": ProductSpec(
        name="amazon",
        canvas=(2000, 2000),
        fill=0.85,
        background=WHITE,
        format="jpeg",
        quality=90,
    ),
    "shopify": ProductSpec(
        name="shopify",
        canvas=(2048, 2048),
        fill=0.80,
        background=WHITE,
        shadow=Shadow(offset_x=0.0, offset_y=1.5, blur=2.0, opacity=0.30),
        format="jpeg",
        quality=90,
    ),
    "transparent": ProductSpec(name="transparent", margin=Length(5.0, "%"), format="png"),
}

#: The preset ``python -m segmentation remove --preset`` and :func:`product_photo` default to.
DEFAULT_PRESET = "amazon"

PresetArg = str | os.PathLike[str] | Mapping[str, Any] | ProductSpec


def preset_names(user: Mapping[str, ProductSpec] | None = None) -> list[str]:
    """Built-in preset names, then the user's, sorted within each."""
    return sorted(BUILTIN) + sorted(set(user or {}) - set(BUILTIN))


def panel_presets(user: Mapping[str, ProductSpec] | None = None) -> list[dict[str, Any]]:
    """List what the browser's export panel (``js/src/product/panel.ts``) offers.

    One ``{"name", "spec", "note"}`` per preset, built-in ones first: ``spec`` is
    :meth:`ProductSpec.to_dict` (the worker validates it again), ``note`` where its rules
    come from.
    """
    known = {**BUILTIN, **(user or {})}
    return [
        {"name": name, "spec": known[name].to_dict(), "note": SOURCES.get(name, "your preset")}
        for name in preset_names(user)
    ]


def _from_object(
    name: str, data: Mapping[str, Any], known: Mapping[str, ProductSpec]
) -> ProductSpec:
    if not isinstance(data, Mapping):
        raise ProductSpecError(f"preset {name!r} must be an object, got {type(data).__name__}")
    fields = dict(data)
    parent = fields.pop("extends", None)
    base = ProductSpec()
    if parent is not None:
        if not isinstance(parent, str) or parent not in known:
            raise ProductSpecError(
                f"preset {name!r} extends unknown preset {parent!r}; known: "
                f"{', '.join(sorted(known))}"
            )
        base = known[parent]
    fields.setdefault("name", name)
    try:
        return spec_from_dict(fields, base)
    except ProductSpecError as exc:
        raise ProductSpecError(f"preset {name!r}: {exc}") from None


def load_presets(path: str | os.PathLike[str]) -> dict[str, ProductSpec]:
    """Read user presets from a JSON file: ``{"presets": {name: {...}, ...}}``.

    A preset may extend a built-in one or one defined before it in the file.

    Raises
    ------
    ProductSpecError
        The file is missing, not JSON, or a preset is invalid (the message names it).

    """
    p = Path(path).expanduser()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProductSpecError(f"preset file {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProductSpecError(f"preset file {p}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ProductSpecError(f"preset file {p}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("presets"), dict):
        raise ProductSpecError(f'preset file {p}: expected {{"presets": {{"name": {{...}}}}}}')
    known: dict[str, ProductSpec] = dict(BUILTIN)
    out: dict[str, ProductSpec] = {}
    for name, obj in data["presets"].items():
        if not isinstance(name, str) or not name.strip():
            raise ProductSpecError(f"preset file {p}: preset names must be non-empty strings")
        try:
            spec = _from_object(name, obj, known)
        except ProductSpecError as exc:
            raise ProductSpecError(f"preset file {p}: {exc}") from None
        known[name] = out[name] = spec
    return out


def resolve_preset(
    preset: PresetArg | None = None,
    *,
    user: Mapping[str, ProductSpec] | None = None,
    **overrides: Any,
) -> ProductSpec:
    """Return the spec for a preset name, a JSON file, a dict or a spec, with ``overrides``.

    Parameters
    ----------
    preset : str, path, dict or ProductSpec, optional
        A built-in name (``amazon``, ``shopify``, ``transparent``), a name in ``user``,
        the path of a JSON file holding one preset object, a dict (JSON types, may hold
        ``"extends"``), or a spec. None: :data:`DEFAULT_PRESET`.
    user : mapping, optional
        More named presets (e.g. from :func:`load_presets`).
    **overrides
        Fields to change, in JSON types (``canvas="1600x1600"``, ``shadow=True``...).

    Raises
    ------
    ProductSpecError
        An unknown preset or field, or a value out of range: one line, before any work.

    """
    known: dict[str, ProductSpec] = {**BUILTIN, **(user or {})}
    if preset is None:
        spec = known[DEFAULT_PRESET]
    elif isinstance(preset, ProductSpec):
        spec = preset
    elif isinstance(preset, Mapping):
        spec = _from_object(str(preset.get("name", "custom")), preset, known)
    elif isinstance(preset, str) and preset in known:
        spec = known[preset]
    elif isinstance(preset, str | os.PathLike) and str(preset).endswith(".json"):
        p = Path(preset).expanduser()
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProductSpecError(f"preset file {p}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProductSpecError(f"preset file {p}: cannot be read as JSON ({exc})") from None
        if isinstance(obj, dict) and "presets" in obj:
            raise ProductSpecError(
                f"preset file {p} holds several presets: load it with --preset-file "
                "(load_presets) and name one"
            )
        spec = _from_object(p.stem, obj, known)
    else:
        raise ProductSpecError(
            f"unknown preset {str(preset)!r}; known: {', '.join(preset_names(user))} "
            "(or a .json file)"
        )
    return spec_from_dict(overrides, spec) if overrides else spec
