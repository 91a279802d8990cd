"""Memory settings for bulk work: reuse freed memory, and pause the cycle collector.

``keep_freed_memory``: keep freed memory for reuse instead of handing it back at once.

Mapping a catalogue makes and frees many large arrays and strings. By default glibc gives a
large block back to the system as soon as it is freed, and takes memory back one page at a
time when it is needed again: every page a fault, which is slow on a virtual machine. At
600,000 rows that was about a sixth of the time of ``validate`` (benchmarks/run_all.py). The
process's peak memory does not change; it is simply reused.

Only glibc (Linux) has these settings; elsewhere this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Iterator

_M_TRIM_THRESHOLD = -1  # keep this much free memory at the top of the heap
_M_TOP_PAD = -2  # grow the heap by at least this much at a time
_M_MMAP_THRESHOLD = -3  # blocks at least this large get a mapping of their own

_done = False


def keep_freed_memory() -> None:
    """Make glibc reuse freed memory (idempotent; a no-op where glibc is absent)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return
    mallopt(_M_MMAP_THRESHOLD, 1 << 30)
    mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1)
    mallopt(_M_TOP_PAD, 64 << 20)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a block that makes many small objects in no cycle.

    Mapping a file or planning a batch of orders makes millions of small lists, tuples and
    dicts; the collector would walk all of them again and again (a third of the mapping time
    at catalogue size). Nothing is lost: objects in a cycle wait until it runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
