"""Print (or write into docs/results.md) the markdown tables of the results files.

Usage::

    .venv/bin/python scripts/results_tables.py                 # print every block
    .venv/bin/python scripts/results_tables.py --write         # into docs/results.md
    .venv/bin/python scripts/results_tables.py --write FILE    # into another markdown file

Each ``<!-- results:NAME -->`` ... ``<!-- /results -->`` block of the file is made
from ``notebooks/results/NAME.json`` by :mod:`segmentation.evaluation.report`;
``tests/test_results_files.py`` fails when docs/results.md and the files disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segmentation.evaluation.record import read_record
from segmentation.evaluation.report import blocks, replace_blocks, tables
from segmentation.files import atomic_path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "notebooks" / "results"
#: The page whose blocks ``--write`` replaces by default.
RESULTS_PAGE = ROOT / "docs" / "results.md"


def main(argv: list[str] | None = None) -> int:
    """Print the blocks, or replace them in ``--write FILE``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--write",
        type=Path,
        nargs="?",
        const=RESULTS_PAGE,
        default=None,
        metavar="FILE",
        help=f"replace the blocks in FILE (default {RESULTS_PAGE.relative_to(ROOT)})",
    )
    args = ap.parse_args(argv)
    bodies = {p.stem: tables(p.stem, read_record(p)) for p in sorted(RESULTS.glob("*.json"))}
    if args.write is None:
        for name, body in bodies.items():
            print(f"<!-- results:{name} -->\n{body}<!-- /results -->\n")
        return 0
    text = args.write.read_text()
    missing = sorted(bodies.keys() - blocks(text).keys())
    if missing:
        print(f"error: {args.write} has no block for {', '.join(missing)}", file=sys.stderr)
        return 1
    with atomic_path(args.write) as tmp:  # an interrupted write leaves the file as it was
        tmp.write_text(replace_blocks(text, bodies))
    print(f"updated {', '.join(bodies)} in {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
