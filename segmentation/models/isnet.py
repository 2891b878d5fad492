"""Built-in catalog entries of IS-Net general use, from IMG.LY's npm data package.

fp16 is ``/models/medium`` and int8 is ``/models/small`` (uint8 dynamic
quantisation) of ``@imgly/background-removal-data``; fp32 is made from fp16 by
the ``fp16_to_fp32`` recipe of :mod:`segmentation.variants.convert`; the default,
int8-static, is quantized from fp32 with packaged activation ranges
(:mod:`segmentation.variants.int8_static`).
"""

from __future__ import annotations

from segmentation.models.spec import (
    DEFAULT_MODEL,
    IMGLY_PACKAGE,
    IMGLY_VERSION,
    DerivedSource,
    ModelSpec,
    NpmSource,
)

_ISNET = {
    "input_name": "input",
    "output_name": "output",
    "input_size": (1024, 1024),
    "mean": (0.5, 0.5, 0.5),
    "std": (1.0, 1.0, 1.0),
    "activation": "none",
    "normalization": "minmax",
    "license": "Apache-2.0 (DIS / IS-Net weights); packaged by IMG.LY (AGPL-3.0 data package)",
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
            description="IS-Net general use, fp16 weights",
            **_ISNET,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name=DEFAULT_MODEL,
            precision="int8",
            sources=(NpmSource(IMGLY_PACKAGE, IMGLY_VERSION, "/models/small"),),
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
