#!/usr/bin/env bash
# Mutation testing of the core with mutmut (configured in pyproject.toml [tool.mutmut]): status
# evaluation, sealing and the store's chain, verify (store and package), SoA parsing, the
# runner's error handling and the shared HTTP client. Not part of CI: see docs/quality.md for
# the score, the surviving mutants and how long a run takes.
#
#   scripts/mutation.sh                      # every configured module
#   scripts/mutation.sh 'collector.runner*'  # one module's mutants (mutmut name globs)
#
# Runs in a copy of the tree (./mutants, git-ignored); mutants are tried two at a time. A
# second run retries only what changed; `.venv/bin/mutmut show NAME` shows one mutant's diff.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || .venv/bin/pip install --quiet -e '.[test,mutation]'
start=$(date +%s)
.venv/bin/mutmut run --max-children "${MUTATION_JOBS:-2}" "$@" >/dev/null
.venv/bin/mutmut results --all true >mutants/results.txt
.venv/bin/python - "$@" <<'PY'
"""Score per module from mutmut's results: (killed + timeout) / every mutant tried."""
import collections
import fnmatch
import sys
from pathlib import Path

globs = sys.argv[1:] or ["*"]
counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
for line in Path("mutants/results.txt").read_text().splitlines():
    name, _, status = line.strip().rpartition(": ")
    if not name or not any(fnmatch.fnmatch(name, g) for g in globs):
        continue
    module = name.split(".x")[0]
    counts[module][status] += 1
for module, c in sorted(counts.items()):
    total = sum(c.values())
    killed = c["killed"] + c["timeout"]
    print(f"{module}: {killed}/{total} killed ({100 * killed / total:.1f} %) {dict(c)}")
PY
echo "took $(( $(date +%s) - start )) s"
