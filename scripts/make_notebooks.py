"""Build ``notebooks/*.ipynb`` from their sources in ``notebooks/src/*.py`` and run them.

Usage::

    .venv/bin/python scripts/make_notebooks.py              # rebuild and run all of them
    .venv/bin/python scripts/make_notebooks.py 01 03        # only those two
    .venv/bin/python scripts/make_notebooks.py --no-execute  # rebuild without outputs
    .venv/bin/python scripts/make_notebooks.py 01 --out /tmp/nb  # write elsewhere

A source is a Python file in "percent" format: ``# %%`` starts a code cell,
``# %% [markdown]`` a markdown cell (its lines start with ``# ``), and
``# %% tags=["nbval-ignore-output"]`` gives a cell tags. Every notebook gets the
same header: the title (first markdown line), an "Open in Colab" badge, and a
setup cell that installs the package on Colab only. Executing stores the outputs
that ``pytest --nbval`` compares against (run from a quiet machine: it takes
minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmentation.files import atomic_path

NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
#: GitHub home of the project, used by the Colab badge.
GITHUB_REPO = "pixel-liberation/pixel-liberation"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/{repo}/blob/main/notebooks/{name})"
)
SETUP_CELL = """\
import sys

if "google.colab" in sys.modules:  # Colab: install the package, allow third-party widgets
    %pip install --quiet pixel-liberation
    from google.colab import output

    output.enable_custom_widget_manager()"""
_HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def parse_source(text: str) -> list[dict[str, Any]]:
    """Split a percent-format source into ``{"type", "source", "tags"}`` cells."""
    cells: list[dict[str, Any]] = []
    for line in text.splitlines():
        head = _HEADER.match(line)
        if head:
            kind = "markdown" if head["md"] else "code"
            tags = json.loads(head["tags"]) if head["tags"] else []
            cells.append({"type": kind, "lines": [], "tags": tags})
        elif not cells:
            if line.strip():
                raise ValueError(f"text before the first '# %%' line: {line!r}")
        elif cells[-1]["type"] == "markdown":
            if line and not line.startswith("#"):
                raise ValueError(f"markdown line does not start with '#': {line!r}")
            cells[-1]["lines"].append(line[2:] if line.startswith("# ") else line[1:])
        else:
            cells[-1]["lines"].append(line)
    out = []
    for cell in cells:
        source = "\n".join(cell.pop("lines")).strip("\n")
        if source:
            out.append({**cell, "source": source})
    return out


def _cell(kind: str, source: str, tags: list[str], cell_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"tags": tags} if tags else {}
    cell: dict[str, Any] = {"cell_type": kind, "id": cell_id, "metadata": meta, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def build(src: Path) -> dict[str, Any]:
    """Return the notebook (nbformat 4.5 dict, no outputs) made from ``src``."""
    name = src.with_suffix(".ipynb").name
    cells = parse_source(src.read_text())
    if not cells or cells[0]["type"] != "markdown" or not cells[0]["source"].startswith("# "):
        raise ValueError(f"{src}: the first cell must be markdown starting with '# Title'")
    title, _, rest = cells[0]["source"].partition("\n")
    badge = BADGE.format(repo=GITHUB_REPO, name=name)
    cells[0]["source"] = f"{title}\n\n{badge}\n{rest}".rstrip()
    cells.insert(1, {"type": "code", "source": SETUP_CELL, "tags": []})
    nb_cells = []
    for i, c in enumerate(cells):
        cell_id = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]
        nb_cells.append(_cell(c["type"], c["source"], c["tags"], cell_id))
    return {
        "cells": nb_cells,
        "metadata": {
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def execute(nb: dict[str, Any], timeout_s: int) -> dict[str, Any]:
    """Run every cell in a fresh ``python3`` kernel (cwd ``notebooks/``); return the result."""
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.from_dict(nb)
    client = NotebookClient(
        node,
        timeout=timeout_s,
        kernel_name=KERNELSPEC["name"],
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    out = json.loads(nbformat.writes(node))
    out["metadata"] = nb["metadata"]  # drop language_info details nbclient adds
    for cell in out["cells"]:
        cell["metadata"].pop("execution", None)
    return out


def write(nb: dict[str, Any], path: Path) -> None:
    """Write ``nb`` as indented JSON (stable diffs), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Rebuild the notebooks named by prefix (all by default) and run them."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prefixes", nargs="*", metavar="PREFIX", help="e.g. 01 03 (default: all)")
    ap.add_argument("--no-execute", action="store_true", help="write without outputs")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    ap.add_argument("--out", type=Path, default=NOTEBOOKS, help="folder (default: notebooks/)")
    args = ap.parse_args(argv)
    sources = [
        s
        for s in sorted(SOURCES.glob("[0-9][0-9]_*.py"))
        if not args.prefixes or any(s.name.startswith(p) for p in args.prefixes)
    ]
    if not sources:
        print(f"no sources in {SOURCES} match {args.prefixes}", file=sys.stderr)
        return 1
    for src in sources:
        nb = build(src)
        dest = args.out / src.with_suffix(".ipynb").name
        if not args.no_execute:
            print(f"executing {dest.name} ...", flush=True)
            nb = execute(nb, args.timeout)
        write(nb, dest)
        print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
