"""The catalog's licence facts: one entry per model, checked against the sources on this machine.

The IS-Net files come from IMG.LY's npm data package; its own licence files are read here
and must say what the catalog records. The docs table must be the catalog's table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from segmentation.cli.main import main
from segmentation.models.licences import (
    IMGLY_PACKAGE_LICENCE,
    IMGLY_SAYS_ISNET,
    LICENCES,
    licence_table,
)
from segmentation.models.npm_package import find_package
from segmentation.models.registry import builtin_registry
from segmentation.models.spec import IMGLY_PACKAGE, IMGLY_VERSION

ROOT = Path(__file__).resolve().parents[3]


def test_every_catalog_model_has_facts_and_its_spec_shows_them() -> None:
    registry = builtin_registry()
    assert set(registry.names()) == set(LICENCES)
    for spec in registry:
        facts = LICENCES[spec.name]
        assert spec.license == facts.summary
        assert facts.commercial_output in ("yes", "no", "unclear") and facts.sources
    # no source licenses the weights Apache-2.0
    assert "Apache-2.0 (DIS / IS-Net weights)" not in LICENCES["isnet-general-use"].summary


def test_isnet_facts_match_the_data_package_that_ships_the_files() -> None:
    package = find_package(IMGLY_PACKAGE, IMGLY_VERSION)
    assert package is not None, "run `python -m segmentation fetch` (scripts/setup.sh does)"
    meta = json.loads((package / "package.json").read_text())
    assert meta["license"] == "SEE LICENSE IN LICENSE.md"
    heading = (package / "LICENSE.md").read_text().splitlines()[0]
    assert "GNU Affero General Public License" in heading and IMGLY_PACKAGE_LICENCE == "AGPL-3.0"
    third = json.loads((package / "ThirdPartyLicenses.json").read_text())
    assert third["ISNET"]["source"] == "https://github.com/xuebinqin/DIS"
    assert third["ISNET"]["license"] == IMGLY_SAYS_ISNET
    facts = LICENCES["isnet-general-use"]
    assert IMGLY_PACKAGE_LICENCE in facts.package and IMGLY_SAYS_ISNET in facts.weights
    assert "DIS5K" in facts.training_data and "non-commercial" in facts.training_data
    assert facts.commercial_output == "no"


def test_docs_table_is_the_catalogs() -> None:
    doc = (ROOT / "docs" / "models-and-licences.md").read_text()
    assert licence_table() in doc
    readme = (ROOT / "README.md").read_text()
    assert "docs/models-and-licences.md" in readme


def test_models_command_prints_the_commercial_column(capsys: object) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    line = next(x for x in out.splitlines() if x.startswith("isnet-general-use"))
    assert re.search(r"\bno\b", line) and "DIS5K" in line and "AGPL-3.0" in line
