"""Property tests of the product settings parser: whatever a user writes, one clear outcome.

Hypothesis builds preset objects from the real field names with values of every JSON type
(and near-miss strings), over every built-in base. The properties: a valid spec comes back,
or a :class:`ProductSpecError` whose message is one line naming a setting; nothing else ever
escapes; and a spec that comes back survives ``to_dict`` / ``spec_from_dict`` unchanged, so
what the kernel sends the browser is what it validated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.product.presets import BUILTIN, load_presets, resolve_preset
from segmentation.product.spec import FIELDS, ProductSpec, ProductSpecError, spec_from_dict

NEAR_MISSES = ["", "5%", "-1%", "50%", "49.9%", "30px", "1e3px", "2000x2000", "4:5", "0x0",
               "white", "#00ff0080", "transparent", "cover", "contain", "bottom", "center",
               "png", "jpeg", "webp", "gif", "amazon", "nan%", "1,5%"]  # fmt: skip
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NEAR_MISSES),
    st.text(max_size=12),
)
SHADOW_KEYS = st.sampled_from(["offset_x", "offset_y", "blur", "opacity", "spread"])
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(SHADOW_KEYS, inner, max_size=4)
    ),
    max_leaves=8,
)
KEYS = st.one_of(st.sampled_from([*FIELDS, "extends"]), st.text(max_size=8))

pct = st.floats(-5, 60).map(lambda v: f"{v:.3g}%")
px = st.integers(-5, 3000).map(lambda v: f"{v}px")
PLAUSIBLE = {  # values near and across each field's limits
    "canvas": st.one_of(st.lists(st.integers(0, 20000), min_size=2, max_size=2),
                        st.tuples(st.integers(1, 4000), st.integers(1, 4000)).map(
                            lambda t: f"{t[0]}x{t[1]}")),
    "aspect": st.one_of(st.none(), st.lists(st.integers(0, 30), min_size=2, max_size=2)),
    "fill": st.one_of(st.none(), st.floats(-0.1, 1.2)),
    "margin": st.one_of(pct, px),
    "position": st.sampled_from(["center", "bottom", "top"]),
    "floor": st.one_of(pct, px),
    "background": st.sampled_from(["white", "transparent", "#f4f1ec", [1, 2, 3, 4], [300, 0, 0]]),
    "background_fit": st.sampled_from(["cover", "contain", "fill"]),
    "shadow": st.one_of(st.booleans(), st.none(), st.fixed_dictionaries({
        "offset_x": st.floats(-120, 120), "offset_y": st.floats(-120, 120),
        "blur": st.floats(-1, 30), "opacity": st.floats(-0.1, 1.1)})),
    "decontaminate": st.booleans(),
    "format": st.sampled_from(["png", "jpeg", "webp", "gif"]),
    "quality": st.integers(0, 101),
    "min_part": st.floats(-0.1, 1.1),
}  # fmt: skip
PLAUSIBLE_OBJECTS = st.lists(st.sampled_from(sorted(PLAUSIBLE)), unique=True, max_size=5).flatmap(
    lambda keys: st.fixed_dictionaries({k: PLAUSIBLE[k] for k in keys})
)


def outcome(make: Any) -> Any:
    try:
        return make()
    except ProductSpecError as err:
        text = str(err)
        assert text and "\n" not in text, text
        return None


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.dictionaries(KEYS, JSON_VALUES, max_size=6), PLAUSIBLE_OBJECTS),
    st.sampled_from(sorted(BUILTIN)),
)
def test_any_object_gives_a_valid_spec_or_one_line_error(data: dict, base: str) -> None:
    spec = outcome(lambda: resolve_preset({"extends": base, **data}))
    if spec is None:
        return
    again = spec_from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.digest == spec.digest


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3), st.data())
def test_any_preset_file_loads_or_is_one_line_error(presets: dict, data: Any) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.json"
        raw = data.draw(st.sampled_from([{"presets": presets}, presets, [presets], "x"]))
        path.write_text(json.dumps(raw))
        loaded = outcome(lambda: load_presets(path))
        if loaded is not None:
            assert all(isinstance(v, ProductSpec) for v in loaded.values())
