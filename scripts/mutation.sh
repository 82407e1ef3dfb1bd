#!/usr/bin/env bash
# Mutation testing of the core with mutmut, one module at a time: status evaluation, sealing and
# the store's chain, verify (store and package), SoA parsing, the runner's error handling and the
# shared HTTP client. Not part of CI: see docs/quality.md for the scores, the surviving mutants
# and how long a run takes.
#
#   scripts/mutation.sh                        # list the modules (the table below)
#   scripts/mutation.sh runner                 # mutate collector/runner.py, print its score
#   scripts/mutation.sh runner 'collector.runner.x_run*'   # only these mutants (mutmut globs)
#   scripts/mutation.sh runner show NAME       # also results, browse, apply: mutmut's own
#
# Each module runs in its own directory, .mutation/<key>/ (git-ignored): links to the sources
# and tests, and a pyproject.toml whose [tool.mutmut] is the repository's with the module's
# only_mutate and test selection from the table. mutmut keeps its copy of the tree and its
# results there (.mutation/<key>/mutants), so modules never reset each other's results and a
# second run retries only what changed. Mutants run MUTATION_JOBS (default 2) at a time;
# mutmut's progress goes to .mutation/<key>/run.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# key, module mutated, the tests that cover it (the only source of this table)
modules() {
  cat <<'EOF'
http           collector/http.py            tests/http tests/test_runner.py tests/test_cross_provider.py tests/test_interrupted.py
runner         collector/runner.py          tests/test_runner.py tests/test_cross_provider.py tests/test_interrupted.py
status         collector/status.py          tests/test_status.py tests/test_status_rules.py tests/test_soa.py
soa            collector/soa.py             tests/test_status.py tests/test_status_rules.py tests/test_soa.py
sealing        storage/sealing.py           tests/store/test_sealing.py tests/test_vectors.py tests/store/test_store.py tests/store/test_tamper.py tests/store/test_audit_tables.py tests/store/test_checkpoints.py tests/test_verify_prune.py
ledger         storage/ledger.py            tests/store/test_sealing.py tests/test_vectors.py tests/store/test_store.py tests/store/test_tamper.py tests/store/test_audit_tables.py tests/store/test_checkpoints.py tests/test_verify_prune.py
retention      storage/retention.py         tests/store/test_sealing.py tests/test_vectors.py tests/store/test_store.py tests/store/test_tamper.py tests/store/test_audit_tables.py tests/store/test_checkpoints.py tests/test_verify_prune.py
export-verify  collector/export/verify.py   tests/export/test_export_verify.py tests/export/test_package_tamper.py tests/export/test_spec_verifier.py
EOF
}

key=${1:-}
row=$(modules | awk -v k="$key" '$1 == k')
if [ -z "$key" ]; then
  modules
  exit 0
elif [ -z "$row" ]; then
  echo "unknown module key: $key (one of: $(modules | awk '{printf "%s ", $1}'))" >&2
  exit 2
fi
shift
read -r _ mutate tests <<<"$row"

[ -x .venv/bin/mutmut ] || .venv/bin/pip install --quiet -e '.[test,mutation]'
work=.mutation/$key
mkdir -p "$work"
for path in collector storage checks mappings tests cli.py; do
  ln -sfn "$root/$path" "$work/$path"
done
# pyproject.toml with [tool.mutmut] narrowed to this module (rewritten only when it changes, so
# mutmut sees the same configuration on every run of the module)
.venv/bin/python - "$work/pyproject.toml" "$mutate" $tests <<'PY'
import json
import re
import sys
import tomllib
from pathlib import Path

target, mutate, *tests = sys.argv[1:]
text = Path("pyproject.toml").read_text()
config = tomllib.loads(text)["tool"]["mutmut"]
config |= {"only_mutate": [mutate], "pytest_add_cli_args_test_selection": tests}
section = "[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items())
text = re.sub(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n|\n)*", "", text, flags=re.M)
text = text.rstrip("\n") + "\n\n" + section
path = Path(target)
if not path.exists() or path.read_text() != text:
    path.write_text(text)
PY

mutmut=$root/.venv/bin/mutmut
cd "$work"
case "${1:-}" in
  results | show | browse | apply | print-time-estimates | tests-for-mutant)
    exec "$mutmut" "$@" ;;
esac
start=$(date +%s)
"$mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@" >run.log
"$mutmut" results --all true >mutants/results.txt
"$root/.venv/bin/python" - <<'PY'
"""Score from mutmut's results: (killed + timeout) / every mutant; the survivors by name."""
import collections
from pathlib import Path

results = {}
for line in Path("mutants/results.txt").read_text().splitlines():
    name, _, status = line.strip().rpartition(": ")
    if name:
        results[name] = status
counts = collections.Counter(results.values())
killed = counts["killed"] + counts["timeout"]
for name, status in sorted(results.items()):
    if status not in ("killed", "timeout"):
        print(f"  {status}: {name}")
total = len(results)
print(f"{killed}/{total} killed ({100 * killed / max(total, 1):.1f} %) {dict(counts)}")
PY
echo "took $(($(date +%s) - start)) s"
