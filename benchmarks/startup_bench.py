"""Start-up benchmark: CPU time, wall time and peak RSS of short CLI commands, end to end.

    .venv/bin/python benchmarks/startup_bench.py --db /tmp/annexa-export-bench/evidence-500d.sqlite
        [--repeat 5] [--tree DIR ...] [--command 'status --format json' ...]

Each run is a fresh interpreter (``python -c 'from cli import main; main()'``, what the console
script does) with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed), a fresh data and
config directory, ``ANNEXA_CONFIG`` naming every provider (``export_bench.BENCH_CONFIG``, so
that status judges the seeded evidence; ``--bare``: none, as the first four passes measured) and
``ANNEXA_DATABASE_URL`` pointing at ``--db`` (seed one with
``export_bench.py``; it is only read, so migrate a copy first if it is not at the schema's
head). ``--tree`` names source trees to compare (e.g. a ``git worktree`` of an older commit):
runs alternate between them after one warm-up each. CPU time and peak RSS come from the
child's own ``rusage`` (``os.wait4``); the load average is printed before and after.

``--instructions`` counts instead the instructions each command executes (valgrind's
callgrind, ~35x slower, hash seed fixed): the same from run to run to a few parts per million,
so a few milliseconds' difference shows where CPU time on a shared machine varies by 20 %.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import bench_config  # noqa: E402

_CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
_MAIN = "import sys; sys.argv = ['annexa', *sys.argv[1:]]; from cli import main; main()"


def run_once(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """CPU seconds (user + sys), wall seconds and peak RSS (MiB) of one command."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _MAIN, *args],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):  # 1: status's gate (a failing control)
        raise SystemExit(f"annexa {shlex.join(args)} in {tree} exited {child.returncode}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def instructions(tree: Path, args: list[str], env: dict[str, str]) -> int:
    """Instructions one command executes, counted by valgrind's callgrind."""
    done = subprocess.run(
        [*_CALLGRIND, sys.executable, "-c", _MAIN, *args],
        cwd=tree,
        env=env | {"PYTHONHASHSEED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode not in (0, 1) or found is None:
        raise SystemExit(f"annexa {shlex.join(args)} in {tree} under callgrind:\n{done.stderr}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="SQLite store to read")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tree", type=Path, action="append", help="source trees (default: this)")
    parser.add_argument("--command", action="append", help="annexa arguments, quoted")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (callgrind), once each"
    )
    parser.add_argument(
        "--bare", action="store_true", help="no config: no seeded check in scope (earlier passes)"
    )
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree or [REPO]]
    commands = [shlex.split(c) for c in args.command or ["status --format json", "--help"]]
    scratch = Path(tempfile.mkdtemp(prefix="annexa-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANNEXA_", "AWS_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env |= {
        "ANNEXA_DATABASE_URL": f"sqlite:///{args.db.resolve()}",
        "ANNEXA_DATA_DIR": str(scratch / "data"),
        "XDG_CONFIG_HOME": str(scratch / "config"),
    }
    if not args.bare:  # every provider configured: status judges the store's evidence
        env["ANNEXA_CONFIG"] = str(bench_config(scratch))
    print(f"load average before: {os.getloadavg()}")
    for command in commands:
        if args.instructions:
            for tree in trees:
                run_once(tree, command, env)  # bytecode cached
                count = instructions(tree, command, env)
                print(f"annexa {shlex.join(command)} [{tree}]: {count:,} instructions")
            continue
        samples: dict[Path, list[tuple[float, float, float]]] = {t: [] for t in trees}
        for tree in trees:
            run_once(tree, command, env)  # warm-up: bytecode and page cache
        for _ in range(args.repeat):
            for tree in trees:
                samples[tree].append(run_once(tree, command, env))
        for tree, runs in samples.items():
            cpu, wall, rss = (statistics.median(r[i] for r in runs) for i in range(3))
            cpus = ", ".join(f"{r[0]:.2f}" for r in runs)
            print(
                f"annexa {shlex.join(command)} [{tree}]: CPU {cpu:.3f} s ({cpus}), "
                f"wall {wall:.3f} s, peak RSS {rss:.0f} MiB (median of {len(runs)})"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
