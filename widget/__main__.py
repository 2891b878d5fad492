"""``python -m widget``: settings of the notebook widgets.

``python -m widget threads on|off|status`` switches cross-origin isolation of
Jupyter pages (WebAssembly threads for the browser engine) on or off in the
user's Jupyter config (see :mod:`widget.isolation`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from widget import isolation


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m widget``."""
    parser = argparse.ArgumentParser(prog="python -m widget", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    threads = sub.add_parser(
        "threads",
        help="WebAssembly threads in Jupyter pages (cross-origin isolation headers)",
        description=(
            "on: write the headers into the Jupyter config (JUPYTER_CONFIG_DIR honoured);"
            " off: remove them; status: say whether on and whether a restart is needed."
        ),
    )
    threads.add_argument("action", choices=("on", "off", "status"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m widget``; return the exit status (2: a config it cannot read or write)."""
    args = build_parser().parse_args(argv)
    try:
        if args.action == "on":
            path = isolation.switch_on()
            print(f"threads on: wrote {path}; restart Jupyter for it to apply")
        elif args.action == "off":
            removed = isolation.switch_off()
            path = isolation.config_path()
            print(
                f"threads off: {'removed the headers from' if removed else 'no header in'}"
                f" {path}" + ("; restart Jupyter for it to apply" if removed else "")
            )
        else:
            lines = isolation.status_lines()
            print("\n".join(lines))
            return 2 if lines[0].startswith(isolation.UNKNOWN) else 0
    except isolation.IsolationConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
