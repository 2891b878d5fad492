"""What a product photo looks like: :class:`ProductSpec`, its validation and its JSON form.

A spec holds *resolved* values (no preset names, no defaults left to guess): the browser's
worker receives exactly :meth:`ProductSpec.to_dict`, and the job's manifest digests it, so a
changed value redoes an image. :func:`spec_from_dict` validates a user's dict (or a JSON
file's object, see :mod:`segmentation.product.presets`) field by field and names the first
problem in one line.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from segmentation.cutouts import parse_color
from segmentation.errors import SegmentationError

Position = Literal["center", "bottom"]
Fit = Literal["cover", "contain"]
Format = Literal["png", "jpeg", "webp"]
RGBA = tuple[int, int, int, int]

POSITIONS: tuple[str, ...] = ("center", "bottom")
FITS: tuple[str, ...] = ("cover", "contain")
FORMATS: tuple[str, ...] = ("png", "jpeg", "webp")
#: File suffix of each output format.
SUFFIXES = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
#: Longest canvas side accepted in a spec (the pixel limit is checked on top).
MAX_CANVAS_SIDE = 16384
#: A margin given in % of the subject must stay below this (per side).
MAX_MARGIN_PERCENT = 50.0
#: Mask level from which a pixel counts as the subject when its box is found.
SUBJECT_LEVEL = 128
#: Soft pixels farther from the subject than this share of the canvas's longer side are
#: cleared (a model's faint background values); see ``framing.clear_far``.
FRINGE_SHARE = 0.01

TRANSPARENT: RGBA = (0, 0, 0, 0)
WHITE: RGBA = (255, 255, 255, 255)


class ProductSpecError(SegmentationError, ValueError):
    """A product-photo setting that is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class Length:
    """A length in pixels (``unit="px"``) or in % of a reference (``unit="%"``)."""

    value: float
    unit: Literal["px", "%"] = "%"

    def pixels(self, reference: float) -> float:
        """Return the length in pixels, ``reference`` being what 100 % means."""
        return self.value if self.unit == "px" else self.value * reference / 100.0

    def to_json(self) -> str:
        """``"12px"`` or ``"5%"`` (shortest exact decimal of the value)."""
        text = f"{self.value:g}"
        return f"{text if float(text) == self.value else repr(self.value)}{self.unit}"


@dataclass(frozen=True)
class Shadow:
    """A soft shadow cast by the subject's mask, under it.

    ``offset_x``, ``offset_y`` and ``blur`` are in % of the subject's height on the canvas
    (so a shadow looks the same at any output size); ``blur`` is the Gaussian's sigma
    (approximated by three box passes); ``opacity`` in [0, 1] scales the mask.
    """

    offset_x: float = 0.0
    offset_y: float = 2.0
    blur: float = 2.5
    opacity: float = 0.35


@dataclass(frozen=True)
class ProductSpec:
    """Every setting of the product-photo step, resolved.

    Attributes
    ----------
    name : str
        The preset it came from (for messages and file names only).
    canvas : tuple of int or None
        Output ``(width, height)``; None: derived from the subject (see ``aspect``).
    aspect : tuple of int or None
        Without ``canvas``: the output's width:height ratio (the smallest such canvas that
        holds the subject and its room at the photo's own scale); None: the room's shape.
    fill : float or None
        Share of the canvas the subject fills on its limiting side (0.85: 85 %); None:
        ``margin`` decides the room around the subject instead.
    margin : Length
        Room on each side of the subject when ``fill`` is None: pixels, or % of the
        subject's width (left, right) and height (top, bottom), below 50 %.
    position : str
        ``"center"``, or ``"bottom"``: the subject stands ``floor`` above the bottom edge.
    floor : Length
        Gap under the subject with ``position="bottom"``: pixels or % of the canvas height.
    background : tuple of int
        RGBA colour behind everything; ``(0, 0, 0, 0)`` is transparent.
    background_image : str or None
        An image file drawn over ``background`` (a path; the step itself takes pixels).
    background_fit : str
        ``"cover"`` (fills the canvas, centre-cropped) or ``"contain"`` (whole, centred).
    shadow : Shadow or None
        A soft shadow from the mask; None: none.
    decontaminate : bool
        Estimate the subject's own colour at its soft edges (foreground estimation), so
        they carry no colour of the old background.
    format : str
        ``"png"``, ``"jpeg"`` or ``"webp"``.
    quality : int
        JPEG/WebP quality, 1..100 (PNG ignores it).
    min_part : float
        Parts of the mask smaller than this share of its largest part are specks: they
        neither count for the subject's box nor appear in the photo. Faint mask values
        farther from the subject than 1 % of the canvas's longer side are cleared too.

    """

    name: str = "custom"
    canvas: tuple[int, int] | None = None
    aspect: tuple[int, int] | None = None
    fill: float | None = None
    margin: Length = field(default_factory=lambda: Length(0.0))
    position: Position = "center"
    floor: Length = field(default_factory=lambda: Length(0.0))
    background: RGBA = TRANSPARENT
    background_image: str | None = None
    background_fit: Fit = "cover"
    shadow: Shadow | None = None
    decontaminate: bool = True
    format: Format = "png"
    quality: int = 90
    min_part: float = 0.005

    def __post_init__(self) -> None:
        check_spec(self)

    @property
    def suffix(self) -> str:
        """Output file suffix (``.png``, ``.jpg``, ``.webp``)."""
        return SUFFIXES[self.format]

    @property
    def opaque(self) -> bool:
        """Whether every output pixel is opaque (an opaque colour, or an image covering it)."""
        return self.background[3] == 255 or (
            self.background_image is not None and self.background_fit == "cover"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: the form user presets, the manifest and the browser use."""
        d = asdict(self)
        d["canvas"] = None if self.canvas is None else list(self.canvas)
        d["aspect"] = None if self.aspect is None else list(self.aspect)
        d["margin"] = self.margin.to_json()
        d["floor"] = self.floor.to_json()
        d["background"] = list(self.background)
        d["shadow"] = None if self.shadow is None else asdict(self.shadow)
        return d

    @property
    def digest(self) -> str:
        """Fingerprint of what shapes the output (the name left out)."""
        d = self.to_dict()
        d.pop("name")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> ProductSpec:
        """Return a copy with ``changes`` (validated like the rest)."""
        return replace(self, **changes)


# --- validation ------------------------------------------------------------------------


def _fail(what: str, problem: str) -> ProductSpecError:
    return ProductSpecError(f"product setting {what}: {problem}")


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(what, f"must be a finite number, got {value!r}")
    return float(value)


def _int(value: object, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(what, f"must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise _fail(what, f"{value} is outside {lo}..{hi}")
    return value


def check_spec(spec: ProductSpec) -> None:
    """Raise :class:`ProductSpecError` naming the first setting of ``spec`` out of range."""
    if spec.canvas is not None:
        for v in spec.canvas:
            _int(v, "canvas", 1, MAX_CANVAS_SIDE)
    if spec.aspect is not None:
        if spec.canvas is not None:
            raise _fail("aspect", "give a canvas size or an aspect, not both")
        for v in spec.aspect:
            _int(v, "aspect", 1, 1000)
    if spec.fill is not None:
        f = _finite(spec.fill, "fill")
        if not 0.0 < f <= 1.0:
            raise _fail("fill", f"{spec.fill} must be in (0, 1] (0.85 is 85 %)")
        if spec.margin.value != 0:
            raise _fail("margin", "give fill or margin, not both (set fill to null)")
    m = _finite(spec.margin.value, "margin")
    if m < 0:
        raise _fail("margin", f"{spec.margin.to_json()} is below 0")
    if spec.margin.unit == "%" and m >= MAX_MARGIN_PERCENT:
        raise _fail("margin", f"{spec.margin.to_json()} must be below 50% of the subject")
    if spec.margin.unit == "px" and m > MAX_CANVAS_SIDE:
        raise _fail("margin", f"{spec.margin.to_json()} is larger than any canvas")
    fl = _finite(spec.floor.value, "floor")
    if fl < 0 or (spec.floor.unit == "%" and fl >= MAX_MARGIN_PERCENT):
        raise _fail("floor", f"{spec.floor.to_json()} must be >= 0 and below 50% of the canvas")
    if spec.position not in POSITIONS:
        raise _fail("position", f"{spec.position!r} is not one of {', '.join(POSITIONS)}")
    if spec.background_fit not in FITS:
        raise _fail("background_fit", f"{spec.background_fit!r} is not one of {', '.join(FITS)}")
    if spec.format not in FORMATS:
        raise _fail("format", f"{spec.format!r} is not one of {', '.join(FORMATS)}")
    if len(spec.background) != 4:
        raise _fail("background", f"{spec.background!r} is not an RGBA colour")
    for v in spec.background:
        _int(v, "background", 0, 255)
    _int(spec.quality, "quality", 1, 100)
    mp = _finite(spec.min_part, "min_part")
    if not 0.0 <= mp < 1.0:
        raise _fail("min_part", f"{spec.min_part} must be in [0, 1)")
    if not isinstance(spec.decontaminate, bool):
        raise _fail("decontaminate", f"must be true or false, got {spec.decontaminate!r}")
    if spec.shadow is not None:
        s = spec.shadow
        for name in ("offset_x", "offset_y"):
            if abs(_finite(getattr(s, name), f"shadow.{name}")) > 100:
                raise _fail(f"shadow.{name}", "must be within -100..100 (% of subject height)")
        b = _finite(s.blur, "shadow.blur")
        if not 0.0 <= b <= 25.0:
            raise _fail("shadow.blur", f"{s.blur} must be in 0..25 (% of subject height)")
        o = _finite(s.opacity, "shadow.opacity")
        if not 0.0 <= o <= 1.0:
            raise _fail("shadow.opacity", f"{s.opacity} must be in [0, 1]")
    if spec.format == "jpeg" and not spec.opaque:
        raise _fail(
            "format",
            "JPEG has no transparency: give an opaque background colour, or choose png or webp",
        )


def check_canvas(spec: ProductSpec, max_pixels: int) -> None:
    """Refuse a fixed canvas above the pixel limit before any work (one line)."""
    if spec.canvas is not None and spec.canvas[0] * spec.canvas[1] > max_pixels:
        w, h = spec.canvas
        raise ProductSpecError(
            f"product canvas {w}x{h} = {w * h:,} pixels is above the pixel limit ({max_pixels:,})"
        )


# --- from JSON types ---------------------------------------------------------------------

_LENGTH = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*(px|%)\s*$")


def parse_length(value: object, what: str) -> Length:
    """``"12px"``, ``"5%"``, or a bare number (pixels)."""
    if isinstance(value, Length):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Length(_finite(value, what), "px")
    if isinstance(value, str):
        m = _LENGTH.match(value)
        if m:
            return Length(float(m[1]), m[2])  # type: ignore[arg-type]
    raise _fail(what, f"{value!r} is not a length like '30px' or '5%'")


def _pair(value: object, what: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+)\s*[x:]\s*([0-9]+)\s*", value)
        if not m:
            raise _fail(what, f"{value!r} is not like '2000x2000' or '4:5'")
        return (int(m[1]), int(m[2]))
    if isinstance(value, list | tuple) and len(value) == 2:
        return (_int(value[0], what, 1, 10**9), _int(value[1], what, 1, 10**9))
    raise _fail(what, f"{value!r} must be two whole numbers")


def _colour(value: object) -> RGBA:
    if value is None or value == "transparent":
        return TRANSPARENT
    try:
        return parse_color(value)  # type: ignore[arg-type]
    except SegmentationError as exc:
        raise _fail("background", str(exc)) from None


def _shadow(value: object) -> Shadow | None:
    if value is None or value is False:
        return None
    if value is True:
        return Shadow()
    if not isinstance(value, Mapping):
        raise _fail("shadow", f"{value!r} must be true, false, null or an object")
    known = {"offset_x", "offset_y", "blur", "opacity"}
    extra = sorted(set(value) - known)
    if extra:
        raise _fail("shadow", f"unknown field {extra[0]!r} (known: {', '.join(sorted(known))})")
    return Shadow(**{k: _finite(v, f"shadow.{k}") for k, v in value.items()})


FIELDS: tuple[str, ...] = tuple(ProductSpec.__dataclass_fields__)


def spec_from_dict(data: Mapping[str, Any], base: ProductSpec | None = None) -> ProductSpec:
    """Build a spec from JSON types over ``base`` (default: :class:`ProductSpec`'s defaults).

    Raises
    ------
    ProductSpecError
        An unknown field, or a value of the wrong type or out of range (one line).

    """
    if not isinstance(data, Mapping):
        raise ProductSpecError(f"a product preset must be an object, got {type(data).__name__}")
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        raise ProductSpecError(
            f"unknown product setting {unknown[0]!r}; known: {', '.join(FIELDS)}"
        )
    spec = base or ProductSpec()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("canvas", "aspect"):
            values[key] = _pair(value, key)
        elif key in ("margin", "floor"):
            values[key] = parse_length(value, key)
        elif key == "background":
            values[key] = _colour(value)
        elif key == "shadow":
            values[key] = _shadow(value)
        elif key == "fill":
            values[key] = None if value is None else _finite(value, "fill")
        elif key == "min_part":
            values[key] = _finite(value, "min_part")
        elif key in ("name", "background_image") and not (value is None or isinstance(value, str)):
            raise _fail(key, f"must be a string, got {value!r}")
        else:
            values[key] = value
    if "canvas" in values and values["canvas"] is not None and "aspect" not in values:
        values["aspect"] = None  # a canvas size replaces the base's aspect
    if "aspect" in values and values["aspect"] is not None and "canvas" not in values:
        values["canvas"] = None
    if "margin" in values and values["margin"].value != 0 and "fill" not in values:
        values["fill"] = None  # a margin replaces the base's fill
    if "fill" in values and values["fill"] is not None and "margin" not in values:
        values["margin"] = Length(0.0)
    return replace(spec, **values)
