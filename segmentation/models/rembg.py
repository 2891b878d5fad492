"""Catalog entries that need the internet: rembg's published ONNX models.

The files are the release assets of https://github.com/danielgatis/rembg
(tag ``v0.0.0``). rembg itself pins them by md5 in its session classes
(``rembg/sessions/*.py``); the sha256 and byte sizes below are the same files
as pinned by several unrelated public projects, and the md5 is kept too, so a
download is checked against both. Preprocessing follows rembg's sessions:
``normalize(img, mean, std, size)`` resizes to ``size``, scales to 0..1, then
``(x - mean) / std``; the first output is min-max normalised.

Two small differences from rembg, both inside our in-graph preprocessing:
rembg scales by the image's own maximum (``x / max(x)``) where we use ``x / 255``
(identical whenever the image has a pure-white-channel pixel, i.e. nearly
always for photos), and rembg resizes with Lanczos where we use antialiased
linear Resize (the operator both runtimes share).
"""

from __future__ import annotations

from segmentation.models.licences import LICENCES
from segmentation.models.spec import ModelSpec, UrlSource

REMBG_RELEASE = "https://github.com/danielgatis/rembg/releases/download/v0.0.0"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _rembg(file: str, sha256: str, size: int, md5: str) -> tuple[UrlSource, ...]:
    return (UrlSource(f"{REMBG_RELEASE}/{file}", sha256=sha256, size=size, md5=md5),)


def online_specs() -> list[ModelSpec]:
    """Specs of models downloaded by URL and verified by sha256.

    ``input_name=""`` / ``output_name=""`` (u2netp) mean "the graph's first
    input / first output", as rembg feeds them, where the tensor names were not
    confirmed from a public source.

    isnet-anime uses rembg's normalisation (mean 0.485/0.456/0.406, std 1);
    SkyTNT's own inference feeds ``x / 255`` letterboxed, without a mean.
    """
    u2 = {
        "input_size": (320, 320),
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "activation": "none",  # output d0 is already a sigmoid
        "normalization": "minmax",
        "online_only": True,
    }
    return [
        ModelSpec(
            name="u2netp",
            precision="fp32",
            sources=_rembg(
                "u2netp.onnx",
                "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
                4_574_861,
                "8e83ca70e441ab06c318d82300c84806",
            ),
            sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
            input_name="",
            output_name="",
            license=LICENCES["u2netp"].summary,
            description="U^2-Net lite (4.6 MB, 320 px): fastest, rough edges",
            **u2,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name="u2net",
            precision="fp32",
            sources=_rembg(
                "u2net.onnx",
                "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
                175_997_641,
                "60024c5c889badc19c04ad937298a77b",
            ),
            sha256="8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
            input_name="input.1",
            output_name="1959",
            license=LICENCES["u2net"].summary,
            description="U^2-Net full (176 MB, 320 px): rembg's original default",
            **u2,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name="silueta",
            precision="fp32",
            sources=_rembg(
                "silueta.onnx",
                "75da6c8d2f8096ec743d071951be73b4a8bc7b3e51d9a6625d63644f90ffeedb",
                44_173_029,
                "55e59e0d8062d2f5d013f4725ee84782",
            ),
            sha256="75da6c8d2f8096ec743d071951be73b4a8bc7b3e51d9a6625d63644f90ffeedb",
            input_name="input.1",
            output_name="1959",
            license=LICENCES["silueta"].summary,
            description="Silueta: U^2-Net shrunk to 44 MB (320 px)",
            **u2,  # type: ignore[arg-type]
        ),
        ModelSpec(
            name="isnet-anime",
            precision="fp32",
            sources=_rembg(
                "isnet-anime.onnx",
                "f15622d853e8260172812b657053460e20806f04b9e05147d49af7bed31a6e99",
                176_069_933,
                "6f184e756bb3bd901c8849220a83e38e",
            ),
            sha256="f15622d853e8260172812b657053460e20806f04b9e05147d49af7bed31a6e99",
            input_name="img",  # names set by SkyTNT/anime-segmentation's export.py
            output_name="mask",
            input_size=(1024, 1024),
            mean=IMAGENET_MEAN,
            std=(1.0, 1.0, 1.0),
            activation="none",
            normalization="minmax",
            online_only=True,
            license=LICENCES["isnet-anime"].summary,
            description="IS-Net trained on anime characters (176 MB, 1024 px)",
        ),
    ]
