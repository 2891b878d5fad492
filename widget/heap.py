"""Give freed heap memory back to the operating system once a widget let go of big buffers.

glibc's allocator keeps freed blocks in its arenas (and, after large blocks were freed, serves
even multi-megabyte arrays from them), so a kernel's RSS does not fall when a widget drops its
masks. ``malloc_trim(0)`` returns the free pages; elsewhere (macOS, musl, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import sys


def trim_heap() -> bool:
    """Return free heap pages to the OS (glibc ``malloc_trim``); whether any were returned."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(trim(0))
