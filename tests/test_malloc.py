"""The run's malloc settings (glibc): the arena cap and the fixed mmap threshold, applied
before the threads start, unless the environment sets them."""

from __future__ import annotations

import subprocess
import sys


def _probe(func: str = "limit_arenas", **env: str) -> str:
    probe = f"from collector.malloc import {func}; print({func}())"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def test_arenas_are_capped_on_glibc_unless_the_environment_says() -> None:
    assert _probe() == "True"  # CI and the container run glibc Linux
    assert _probe(MALLOC_ARENA_MAX="4") == "False"


def test_mmap_threshold_is_fixed_on_glibc_unless_the_environment_says() -> None:
    assert _probe("fix_mmap_threshold") == "True"
    assert _probe("fix_mmap_threshold", MALLOC_MMAP_THRESHOLD_="65536") == "False"
