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


def tree_cpu_s(root: int | None = None) -> float | None:
    """Return CPU seconds used so far by the live descendants of ``root`` (default: this process).

    Returns None where ``/proc`` is not available. Exited processes no longer count,
    so compare two readings taken while the same processes live.
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
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo += children.get(pid, [])
    return total
