"""What the catalog knows about each model's licences, with where each fact comes from.

A shop deciding whether it may sell photos made with a model needs more than the code's
licence: the weights, the data they were trained on and the package that ships them each
have terms. :data:`LICENCES` records them per catalog model, says whether commercial use
of the *output* is cleared (``"yes"``), ruled out by a stated term (``"no"``) or not
settled by anything the catalog has seen (``"unclear"``), and names its sources. Nothing
here is legal advice; where a source is silent, the entry says so instead of guessing.
``tests/segmentation/models/test_licences.py`` checks the entries against the sources on this
machine (the npm data package's own licence files) and ``docs/models-and-licences.md``
against :func:`licence_table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Commercial = Literal["yes", "no", "unclear"]

DIS_REPO = "https://github.com/xuebinqin/DIS"
U2NET_REPO = "https://github.com/xuebinqin/U-2-Net"
IMGLY_DATA = "https://www.npmjs.com/package/@imgly/background-removal-data"


@dataclass(frozen=True)
class LicenceFacts:
    """The terms around one model, as its sources state them.

    Attributes
    ----------
    code : str
        Licence of the model's source code.
    weights : str
        What is stated about the weights themselves.
    training_data : str
        The data the weights were trained on, and its terms.
    package : str
        Who ships the file the catalog uses, under which licence.
    commercial_output : str
        ``"yes"``, ``"no"`` or ``"unclear"`` (see the module docstring).
    why : str
        One sentence behind ``commercial_output``.
    sources : tuple of str
        Where the facts come from.

    """

    code: str
    weights: str
    training_data: str
    package: str
    commercial_output: Commercial
    why: str
    sources: tuple[str, ...]

    @property
    def summary(self) -> str:
        """One line for ``python -m segmentation models``."""
        return (
            f"code {self.code}; weights: {self.weights}; trained on {self.training_data}; "
            f"{self.package}"
        )


#: The licence text of IMG.LY's data package (its LICENSE.md) names this licence.
IMGLY_PACKAGE_LICENCE = "AGPL-3.0"
#: What the data package's ThirdPartyLicenses.json says of the IS-Net model it ships.
IMGLY_SAYS_ISNET = "MIT"

_U2NET_DATA = "DUTS-TR (the U-2-Net README's training set; its terms not checked here)"

LICENCES: dict[str, LicenceFacts] = {
    "isnet-general-use": LicenceFacts(
        code="Apache-2.0 (the DIS README's 'Term of Use': code and evaluation metric)",
        weights=(
            "no licence stated in the DIS repository; IMG.LY's ThirdPartyLicenses.json lists "
            f"the model as {IMGLY_SAYS_ISNET}"
        ),
        training_data=(
            "DIS5K, under the 'DIS5K-Dataset-Terms-of-Use.pdf' of the DIS repository "
            "(non-commercial terms)"
        ),
        package=(
            f"ONNX files from IMG.LY's npm data package 1.4.5, licensed {IMGLY_PACKAGE_LICENCE} "
            "(its LICENSE.md)"
        ),
        commercial_output="no",
        why=(
            "the weights were trained on DIS5K, whose terms are non-commercial, and no "
            "licence for the weights says otherwise"
        ),
        sources=(f"{DIS_REPO} (README, 'Term of Use')", IMGLY_DATA),
    ),
    "u2net": LicenceFacts(
        code="Apache-2.0 (the U-2-Net repository)",
        weights="released in the U-2-Net repository; no separate licence stated for them",
        training_data=_U2NET_DATA,
        package="ONNX export by rembg (MIT), downloaded from its release",
        commercial_output="unclear",
        why="nothing the catalog has seen licenses the weights or states the data's terms",
        sources=(U2NET_REPO, "https://github.com/danielgatis/rembg"),
    ),
    "u2netp": LicenceFacts(
        code="Apache-2.0 (the U-2-Net repository)",
        weights="released in the U-2-Net repository; no separate licence stated for them",
        training_data=_U2NET_DATA,
        package="ONNX export by rembg (MIT), downloaded from its release",
        commercial_output="unclear",
        why="nothing the catalog has seen licenses the weights or states the data's terms",
        sources=(U2NET_REPO, "https://github.com/danielgatis/rembg"),
    ),
    "silueta": LicenceFacts(
        code="Apache-2.0 (U^2-Net, slimmed: U-2-Net issue #295)",
        weights="no licence stated for the slimmed weights",
        training_data=_U2NET_DATA,
        package="ONNX by rembg (MIT), downloaded from its release",
        commercial_output="unclear",
        why="nothing the catalog has seen licenses the weights or states the data's terms",
        sources=(U2NET_REPO, "https://github.com/danielgatis/rembg"),
    ),
    "isnet-anime": LicenceFacts(
        code="Apache-2.0 (SkyTNT/anime-segmentation)",
        weights="published with that repository; no separate licence stated for them",
        training_data="SkyTNT's anime character dataset (its terms not checked here)",
        package="ONNX by rembg (MIT), downloaded from its release",
        commercial_output="unclear",
        why="the training data's terms are not known to the catalog",
        sources=(
            "https://github.com/SkyTNT/anime-segmentation",
            "https://github.com/danielgatis/rembg",
        ),
    ),
}


def licence_of(model: str) -> LicenceFacts | None:
    """Return the facts of a catalog model, None for a model the catalog has none for (your own)."""
    return LICENCES.get(model)


def licence_table() -> str:
    """Markdown table of every catalog model: commercial use of the output, and why."""
    lines = [
        "| model | commercial use of the output | why | code | weights | trained on | file from |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(LICENCES):
        f = LICENCES[name]
        lines.append(
            f"| {name} | **{f.commercial_output}** | {f.why} | {f.code} | {f.weights} | "
            f"{f.training_data} | {f.package} |"
        )
    return "\n".join(lines)
