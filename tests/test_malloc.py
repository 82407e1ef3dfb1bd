"""The run's malloc arena cap (glibc): applied before the threads start, unless the
environment sets it."""

from __future__ import annotations

import subprocess
import sys

_PROBE = "from collector.malloc import limit_arenas; print(limit_arenas())"


def _probe(**env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def test_arenas_are_capped_on_glibc_unless_the_environment_says() -> None:
    assert _probe() == "True"  # CI and the container run glibc Linux
    assert _probe(MALLOC_ARENA_MAX="4") == "False"
