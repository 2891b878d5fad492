"""Your own model for the command line: a JSON file naming the ONNX file and how to feed it.

::

    {"path": "my-model.onnx", "name": "my-model", "input_size": [320, 320],
     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "activation": "sigmoid"}

``path`` (relative paths start at the JSON file's folder; it must be a regular
file) and ``name`` are required; every other key is a
:class:`~segmentation.models.spec.ModelSpec` field (``precision`` defaults to
``"custom"``). Unknown keys are refused, so a typo does not silently change the
masks, and every value is checked here (:func:`~segmentation.models.spec.check_spec`:
a name usable in a file name, ``input_size`` up to 4096, three finite ``mean``
and ``std`` values with ``std`` > 0...), before anything is written or sized from
it: an error is one line naming the file and the field. :func:`read_spec_file`
returns the file and the spec, for
:meth:`~segmentation.models.registry.Registry.register_file`.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import fields
from pathlib import Path
from typing import Any

from segmentation.errors import SegmentationError
from segmentation.models.spec import ModelSpec

_TUPLES = ("input_size", "mean", "std")
_SETTABLE = tuple(f.name for f in fields(ModelSpec) if f.name not in ("sources", "online_only"))
#: Largest spec file read (a spec is a few hundred bytes).
MAX_SPEC_BYTES = 1 << 20


def _read_json(spec_path: Path) -> Any:
    try:
        st = spec_path.stat()
    except FileNotFoundError:
        raise SegmentationError(f"model spec {spec_path}: no such file") from None
    except OSError as exc:
        raise SegmentationError(f"model spec {spec_path}: cannot be read ({exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise SegmentationError(f"model spec {spec_path}: not a regular file")
    if st.st_size > MAX_SPEC_BYTES:
        raise SegmentationError(
            f"model spec {spec_path}: {st.st_size:,} bytes, more than a spec file holds"
        )
    try:
        return json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SegmentationError(f"model spec {spec_path}: cannot be read ({exc})") from None


def _model_file(spec_path: Path, value: str) -> Path:
    """Return the ONNX file the spec names; it must be a regular file."""
    model_file = Path(value).expanduser()
    if not model_file.is_absolute():
        model_file = spec_path.parent / model_file
    try:
        st = os.stat(model_file)
    except (FileNotFoundError, NotADirectoryError):
        raise SegmentationError(
            f"model spec {spec_path}: 'path': model file not found: {model_file}"
        ) from None
    except (OSError, ValueError) as exc:
        raise SegmentationError(
            f"model spec {spec_path}: 'path': {model_file} cannot be read ({exc})"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise SegmentationError(
            f"model spec {spec_path}: 'path': {model_file} is not a regular file"
        )
    return model_file


def read_spec_file(path: str | Path) -> tuple[Path, ModelSpec]:
    """Return ``(onnx_file, spec)`` described by a JSON spec file.

    Raises
    ------
    SegmentationError
        The file is missing, not JSON or not an object; ``path`` or ``name`` is
        missing; ``path`` is not a regular file; a key is unknown or a value is
        unusable (the message names the file and the field).

    """
    spec_path = Path(path).expanduser()
    data = _read_json(spec_path)
    if not isinstance(data, dict):
        raise SegmentationError(f"model spec {spec_path}: expected a JSON object")
    unknown = sorted(set(data) - {"path", *_SETTABLE})
    if unknown:
        raise SegmentationError(
            f"model spec {spec_path}: unknown keys {unknown}; known: path, {', '.join(_SETTABLE)}"
        )
    for key in ("path", "name"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise SegmentationError(f"model spec {spec_path}: {key!r} (a string) is required")
    for key in _TUPLES:
        if key in data:
            if not isinstance(data[key], list):
                raise SegmentationError(
                    f"model spec {spec_path}: {key!r} must be a list, got {data[key]!r}"
                )
            data[key] = tuple(data[key])
    data.setdefault("precision", "custom")
    model_file = _model_file(spec_path, data.pop("path"))
    try:
        spec = ModelSpec(sources=(), **data)  # every field checked: "'std' must be ..."
    except (TypeError, ValueError) as exc:
        raise SegmentationError(f"model spec {spec_path}: {exc}") from None
    return model_file, spec
