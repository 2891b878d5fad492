"""Static checks of the stored notebooks (nbval runs them; these check what nbval does not).

Every notebook must be valid, name the ``python3`` kernel, carry an "Open in Colab" badge
and the Colab-only install cell, have been run top to bottom with no error, keep its stored
outputs small, contain a checked cell that asserts something, and match its source in
``notebooks/src`` (``scripts/make_notebooks.py`` builds one from the other).
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = [
    "01_quickstart.ipynb",
    "02_interactive_masking.ipynb",
    "03_browser_vs_python.ipynb",
    "04_accuracy_vs_quantization.ipynb",
    "05_bring_your_own_model.ipynb",
    "06_product_photos.ipynb",
]
IGNORE_TAG = "nbval-ignore-output"
MAX_NOTEBOOK_BYTES = 400_000
MAX_IMAGE_BYTES = 120_000  # base64 characters of one stored PNG


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", ROOT / "scripts" / "make_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(name: str) -> dict[str, Any]:
    return json.loads((NOTEBOOKS / name).read_text())


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def test_the_notebooks_exist() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_valid_with_python3_kernel(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.kernelspec.language == "python"


@pytest.mark.parametrize("name", EXPECTED)
def test_colab_badge_and_guarded_install(name: str) -> None:
    cells = _load(name)["cells"]
    first = _text(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# ")
    assert "colab.research.google.com/assets/colab-badge.svg" in first
    assert re.search(
        rf"colab\.research\.google\.com/github/[^)]+/notebooks/{re.escape(name)}\)", first
    )
    setup = _text(cells[1]["source"])
    assert cells[1]["cell_type"] == "code"
    assert 'if "google.colab" in sys.modules:' in setup
    body = setup.split('if "google.colab" in sys.modules:', 1)[1]
    assert "%pip install" in body and "pixel-liberation" in body
    assert "enable_custom_widget_manager()" in body
    # the install line is indented under the guard, never run outside Colab
    assert all(line.startswith("    ") for line in body.splitlines()[1:] if line.strip())


@pytest.mark.parametrize("name", EXPECTED)
def test_run_top_to_bottom_without_errors(name: str) -> None:
    code = [c for c in _load(name)["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"not run once top to bottom: {counts}"
    for i, cell in enumerate(code):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"code cell {i}: {out.get('ename')}"
            if out["output_type"] == "stream":
                assert "Traceback" not in _text(out["text"]), f"code cell {i}: traceback"


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_outputs_are_small(name: str) -> None:
    assert (NOTEBOOKS / name).stat().st_size <= MAX_NOTEBOOK_BYTES
    for cell in _load(name)["cells"]:
        for out in cell.get("outputs", []):
            for mime, data in out.get("data", {}).items():
                if mime.startswith("image/"):
                    assert len(_text(data)) <= MAX_IMAGE_BYTES, f"{mime} of {len(_text(data))} B"


@pytest.mark.parametrize("name", EXPECTED)
def test_has_a_checked_cell_that_asserts(name: str) -> None:
    checked = [
        c
        for c in _load(name)["cells"]
        if c["cell_type"] == "code" and IGNORE_TAG not in c["metadata"].get("tags", [])
    ]
    asserting = [c for c in checked if re.search(r"^assert ", _text(c["source"]), re.M)]
    assert asserting, "no compared cell asserts anything"
    assert any(c["outputs"] for c in asserting), "the asserting cells print nothing to compare"


@pytest.mark.parametrize("name", EXPECTED)
def test_matches_its_source(name: str) -> None:
    gen = _generator()
    built = gen.build(NOTEBOOKS / "src" / name.replace(".ipynb", ".py"))
    stored = _load(name)
    assert [(c["cell_type"], _text(c["source"])) for c in stored["cells"]] == [
        (c["cell_type"], c["source"]) for c in built["cells"]
    ], f"{name} is out of date: run scripts/make_notebooks.py {name[:2]}"
    assert [c["metadata"].get("tags", []) for c in stored["cells"]] == [
        c["metadata"].get("tags", []) for c in built["cells"]
    ]


@pytest.mark.parametrize(
    ("name", "results"),
    [("04_accuracy_vs_quantization.ipynb", "accuracy_vs_quantization.json"),
     ("03_browser_vs_python.ipynb", "browser_vs_python.json")],
)  # fmt: skip
def test_notebook_reads_a_complete_results_file_its_command_remakes(
    name: str, results: str
) -> None:
    """The recorded run a notebook shows is there, complete, and its command writes that file."""
    from segmentation.cli.main import build_parser
    from segmentation.evaluation.record import read_record

    cells = _load(name)["cells"]
    sources = "".join(_text(c["source"]) for c in cells)
    assert f'"results") / "{results}"' in sources, f"{name} does not read results/{results}"
    record = read_record(NOTEBOOKS / "results" / results)
    assert record.meta["complete"] is True and record.summary and record.images
    for key in ("machine", "versions", "started", "finished", "commit"):
        assert record.meta.get(key), key
    command = record.meta["command"]
    if command.startswith("python -m segmentation "):
        args = build_parser().parse_args(command.split()[3:])
        assert args.record == Path("notebooks/results") / results, command
    else:  # the JupyterLab recorder, a benchmark
        assert command.startswith(".venv/bin/python -m widget.bench record"), command
        recorder = (NOTEBOOKS.parent / "widget" / "bench" / "record.py").read_text()
        assert f'"notebooks" / "results" / "{results}"' in recorder


def test_sanitize_file_parses() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(NOTEBOOKS / "sanitize.cfg")
    assert cfg.sections()
    for section in cfg.sections():
        pattern = re.compile(cfg[section]["regex"])
        assert "replace" in cfg[section]
        assert not pattern.search("subject: 58% of the pixels"), section  # no over-matching
    subs = {cfg[s]["regex"]: cfg[s]["replace"] for s in cfg.sections()}
    text = "<widget.remover.widget.BackgroundRemover object at 0x7f3a2b1c0d90>"
    for regex, repl in subs.items():
        text = re.sub(regex, repl, text)
    assert "0x7f" not in text
