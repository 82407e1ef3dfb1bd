"""glibc malloc settings for a run, applied before its threads start (elsewhere than glibc,
nothing; an explicit ``MALLOC_ARENA_MAX`` or ``MALLOC_MMAP_THRESHOLD_`` wins).

Fewer arenas: each thread that allocates gets an arena of its own by default (up to 8 per
core), and memory freed in one is not reused by another, so a run's check and fan-out threads
hold more resident memory than they use.

A fixed mmap threshold: glibc raises its threshold (128 KiB at start, up to 32 MiB) each time
a block above it is freed, after which a run's multi-megabyte blocks (service model files as
read, large responses) come from the heap and leave holes there that the process keeps."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
_M_ARENA_MAX = -8
#: glibc's own starting threshold, kept: blocks this large get a mapping of their own
MMAP_THRESHOLD = 128 * 1024


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas at ``count``; whether it applied."""
    return _mallopt(_M_ARENA_MAX, count, "MALLOC_ARENA_MAX")


def fix_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Serve every block of ``size`` bytes or more from a mapping of its own, returned to the
    system when freed, for the whole process; whether it applied."""
    return _mallopt(_M_MMAP_THRESHOLD, size, "MALLOC_MMAP_THRESHOLD_")


def _mallopt(param: int, value: int, env: str) -> bool:
    if not sys.platform.startswith("linux") or env in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(param, value))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
