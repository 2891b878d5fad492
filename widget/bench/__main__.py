"""``python -m widget.bench NAME [options]``: run one benchmark; without NAME, list them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

from widget.bench import (
    batch,
    big_photo,
    browser_speed,
    editor_ops,
    imgly,
    memory,
    pipeline,
    product,
    record,
    scale,
    widget_runs,
)
from widget.bench.harness import COMMAND

#: Name -> module (its ``main(argv) -> int``) and what it measures, in the order listed.
BENCHMARKS: dict[str, tuple[ModuleType, str]] = {
    "imgly": (imgly, "the widget (each policy, cold and warm) against @imgly/background-removal"),
    "widget": (widget_runs, "the widget in JupyterLab against its kernel twin, cold and warm"),
    "browser-speed": (browser_speed, "first and full mask by threads, preview and resolution"),
    "batch": (batch, "BatchRemover: 1 worker against the pool; worker x thread layouts"),
    "memory": (memory, "kernel and renderer memory over re-runs; a batch's peak"),
    "record": (record, "browser tab vs kernel, every catalog precision (notebook 03's file)"),
    "pipeline": (pipeline, "the kernel pipeline against a bare session.run"),
    "big-photo": (big_photo, "peak memory of a 108 MP photo through mask and cutout"),
    "scale": (scale, "the many-image job: 1 process, local pool, Dask LocalCluster"),
    "product": (product, "the product-photo step: speed, a job, edge quality"),
    "editor-ops": (editor_ops, "main-thread blocking of the editor's whole-mask operations"),
}


def usage() -> str:
    """Return the list of benchmarks, one line each."""
    width = max(map(len, BENCHMARKS))
    lines = [f"usage: {COMMAND} NAME [options]   ({COMMAND} NAME --help: its options)", ""]
    lines += [f"  {name:<{width}}  {what}" for name, (_, what) in BENCHMARKS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark named by the first argument with the others; list them without one."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in BENCHMARKS:
        print(f"{COMMAND}: unknown benchmark {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    run: Callable[[list[str]], int] = BENCHMARKS[name][0].main
    return run(rest)


if __name__ == "__main__":
    raise SystemExit(main())
