"""Fewer glibc malloc arenas for a run's threads: each thread that allocates gets an arena of
its own by default (up to 8 per core), and memory freed in one is not reused by another, so a
run's check and fan-out threads hold more resident memory than they use."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas at ``count`` (before the threads start); whether it applied.
    An explicit ``MALLOC_ARENA_MAX`` in the environment wins; elsewhere than glibc, nothing."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, count))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
