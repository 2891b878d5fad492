"""CPU time of a process tree, read from ``/proc`` (Linux).

Wall-clock latencies swing with the machine's load; the CPU seconds the
browser's processes spend on a run do not (much). The headless benchmark
reports both: :func:`tree_cpu_s` sums user + system time of this process's
descendants (Playwright's driver, Chromium and its renderer and workers).
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """``(ppid, user + system seconds)`` of a live process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # after the command: state ppid ... utime (14th field overall) stime (15th)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu(root: int | None = None, name_prefix: str = "") -> dict[int, float] | None:
    """Return CPU seconds used so far by each live descendant of ``root`` (default: this process).

    Only processes whose command name starts with ``name_prefix`` are listed
    (``"chrom"``: Chromium's browser, renderer, GPU and utility processes, not
    Playwright's driver nor a Jupyter server). None where ``/proc`` is missing.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    root = os.getpid() if root is None else root
    stats: dict[int, tuple[int, float]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                stats[int(entry.name)] = st
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, float] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if name_prefix == "" or _comm(pid).startswith(name_prefix):
            found[pid] = stats[pid][1]
        todo += children.get(pid, [])
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def tree_cpu_s(root: int | None = None) -> float | None:
    """Return CPU seconds used so far by the live descendants of ``root`` (default: this process).

    Returns None where ``/proc`` is not available. Exited processes no longer count,
    so compare two readings taken while the same processes live, or use
    :func:`cpu_s_since`.
    """
    found = tree_cpu(root)
    return None if found is None else sum(found.values())


def cpu_s_since(before: dict[int, float] | None, name_prefix: str = "") -> float:
    """CPU seconds used since the :func:`tree_cpu` reading ``before`` (same ``name_prefix``).

    Summed per process, so one that exits in between (a closed page's renderer)
    cannot make the result negative; its last slice is not counted. NaN where
    ``/proc`` is missing.
    """
    now = tree_cpu(None, name_prefix)
    if before is None or now is None:
        return float("nan")
    return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in now.items())
