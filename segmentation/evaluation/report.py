"""Markdown tables from results files, for docs/results.md (so its numbers come from the files).

``scripts/results_tables.py --write`` replaces each block between
``<!-- results:NAME -->`` and ``<!-- /results -->`` of docs/results.md with :func:`tables`
of the results file ``notebooks/results/NAME.json``; a test checks that the page and the
files agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from segmentation.evaluation.record import Record

_BLOCK = re.compile(r"(<!-- results:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


def _fmt(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _source_line(record: Record) -> str:
    m = record.meta
    load = m["machine"].get("load_average") or ["?"]
    return (
        f"`{m['command']}` ({m['started'][:10]}, {m['machine']['cores']}-core "
        f"{m['machine']['cpu']}, load {load[0]} at start, commit {str(m['commit'])[:9]})"
    )


def accuracy_tables(record: Record) -> str:
    """One table per dataset: size, latency per runtime, accuracy on the first runtime's images."""
    meta = record.meta
    runtimes: list[str] = list(meta["runtimes"])
    first, default = runtimes[0], meta["default_precision"]
    out = [f"From {_source_line(record)}:"]
    for ds in [d["name"] for d in meta["datasets"]]:
        rows = [r for r in record.summary if r["dataset"] == ds]
        acc = {r["variant"]: r for r in rows if r["runtime"] == first}
        lat = {(r["variant"], r["runtime"]): r["latency_median_s"] for r in rows}
        n_other = next((r["n"] for r in rows if r["runtime"] != first), None)
        header = ["variant", "MB", *[f"{r} s" for r in runtimes], "IoU", "MAE", "S", "IoU vs fp32"]
        body = []
        for v, a in sorted(acc.items(), key=lambda kv: kv[1]["size_mb"]):
            body.append([
                f"**{v}** (default)" if v == default else v, f"{a['size_mb']:.0f}",
                *[_fmt(lat.get((v, r)), 2) for r in runtimes],
                _fmt(a["gt_iou"], 3), _fmt(a["gt_mae"], 3), _fmt(a.get("gt_s_measure"), 3),
                _fmt(a["ref_iou"], 3),
            ])  # fmt: skip
        n_first = next(iter(acc.values()))["n"]
        note = f" (other runtimes: first {n_other})" if n_other is not None else ""
        out += ["", f"{ds}: {n_first} images{note}", "", markdown(header, body)]
    return "\n".join(out) + "\n"


def latency_table(record: Record) -> str:
    """Latency per precision and runtime, and the browser's parity with the kernel."""
    default = record.meta["default_precision"]
    runtimes = sorted({r["runtime"] for r in record.summary})
    size = {r["variant"]: r["size_mb"] for r in record.summary}
    variants = sorted(size, key=lambda v: (size[v], v))
    by = {(r["variant"], r["runtime"]): r for r in record.summary}
    header = ["variant", "MB", *[f"{r} s" for r in runtimes], "lowest browser IoU vs kernel"]
    body = []
    for v in variants:
        cells = [by.get((v, r)) for r in runtimes]
        parity = [c["parity_min_iou"] for c in cells if c and c.get("parity_min_iou") is not None]
        body.append([
            f"**{v}** (default)" if v == default else v, f"{size[v]:.0f}",
            *[_fmt(c["latency_median_s"], 2) if c else "" for c in cells],
            _fmt(min(parity), 4) if parity else "",
        ])  # fmt: skip
    n = max(r["n"] for r in record.summary)
    return f"From {_source_line(record)}, {n} photos:\n\n{markdown(header, body)}\n"


def tables(name: str, record: Record) -> str:
    """Return the markdown block of the results file ``name`` (its file stem)."""
    if name == "browser_vs_python":
        return latency_table(record)
    return accuracy_tables(record)


def blocks(text: str) -> dict[str, str]:
    """Return the results blocks of a markdown page: ``{name: body}``."""
    return {m["name"]: m["body"] for m in _BLOCK.finditer(text)}


def replace_blocks(text: str, bodies: dict[str, str]) -> str:
    """Return ``text`` with each block's body replaced by ``bodies[name]`` (others kept)."""
    return _BLOCK.sub(lambda m: m.group(1) + bodies.get(m["name"], m["body"]) + m.group(4), text)
