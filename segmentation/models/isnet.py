"""Built-in catalog entries of IS-Net general use, from IMG.LY's npm data package.

fp16 is ``/models/medium`` and int8 is ``/models/small`` (uint8 dynamic
quantisation) of ``@imgly/background-removal-data``; fp32 is made from fp16 by
the ``fp16_to_fp32`` derivation (:mod:`segmentation.conversion.derivations`); the default,
int8-static, is quantized from fp32 with packaged activation ranges
(:mod:`segmentation.conversion.int8_static`). The two npm files are pinned by
sha256; the two derived ones depend on the onnx/onnxruntime versions that made
them, so they are checked against the sidecar written when they were derived
(or derived again when it is missing).
"""

from __future__ import annotations

from segmentation.models.licences import LICENCES
from segmentation.models.spec import (
    DEFAULT_MODEL,
    IMGLY_PACKAGE,
    IMGLY_VERSION,
    DerivedSource,
    ModelSpec,
    NpmSource,
)

#: sha256 of the files the 1.4.5 data package assembles (every chunk checked against
#: ``dist/resources.json``): a cached copy is checked against these, sidecar or not.
FP16_SHA256 = "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb"
INT8_SHA256 = "7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a"

_ISNET = {
    "input_name": "input",
    "output_name": "output",
    "input_size": (1024, 1024),
    "mean": (0.5, 0.5, 0.5),
    "std": (1.0, 1.0, 1.0),
    "activation": "none",
    "normalization": "minmax",
    "license": LICENCES[DEFAULT_MODEL].summary,
}


def isnet_specs() -> list[ModelSpec]:
    """Specs of the four IS-Net variants (none needs more than npm to obtain)."""
    return [
        ModelSpec(
            name=DEFAULT_MODEL,
            precision="int8-static",
            sources=(DerivedSource("fp32", "fp32_to_int8_static"),),
            description="IS-Net general use, static int8, browser = kernel (default)",
            **_ISNET,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name=DEFAULT_MODEL,
            precision="fp16",
            sources=(NpmSource(IMGLY_PACKAGE, IMGLY_VERSION, "/models/medium"),),
            sha256=FP16_SHA256,
            description="IS-Net general use, fp16 weights",
            **_ISNET,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name=DEFAULT_MODEL,
            precision="int8",
            sources=(NpmSource(IMGLY_PACKAGE, IMGLY_VERSION, "/models/small"),),
            sha256=INT8_SHA256,
            description="IS-Net general use, uint8 dynamic-quantized weights",
            **_ISNET,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name=DEFAULT_MODEL,
            precision="fp32",
            sources=(DerivedSource("fp16", "fp16_to_fp32"),),
            description="IS-Net general use, fp32 (upcast from the fp16 weights)",
            **_ISNET,  # type: ignore[arg-type]
        ),
    ]
