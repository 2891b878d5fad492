"""Options shared by subcommands: where the work runs (``--cluster``, ``--workers``)."""

from __future__ import annotations

import argparse
import os

from segmentation.jobs.engines import SCHEDULER_ENV


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """Add ``--cluster`` (default ``$DASK_SCHEDULER_ADDRESS``) and ``--workers``."""
    p.add_argument(
        "--cluster",
        default=os.environ.get(SCHEDULER_ENV) or None,
        metavar="WHERE",
        help="'local' (a Dask LocalCluster) or a scheduler address tcp://HOST:PORT "
        f"(default ${SCHEDULER_ENV}; unset: this machine, no Dask)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes of the local pool or of the LocalCluster (default: every core)",
    )
