"""What a command loads: ``annexa --help``, ``status``, ``checks`` and ``controls`` import no
cloud SDK; the last three read the check manifest, not the check modules, and no ORM (``checks``
and ``controls`` no SQLAlchemy at all).

Each command runs in a fresh interpreter (the real ``cli.main``); the modules it left in
``sys.modules`` are read back. Module names, never timings: the figures are in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Top-level packages of the providers' SDKs and HTTP stacks.
CLOUD_SDKS = frozenset(
    {"boto3", "botocore", "s3transfer", "azure", "msal", "google", "grpc", "httpx", "jwt"}
)
_SCRIPT = """
import json, os, sys
sys.argv = ["annexa", *json.loads(os.environ["LEAN_ARGS"])]
import cli
try:
    cli.main()
except SystemExit:
    pass
with open(os.environ["LEAN_OUT"], "w") as out:
    json.dump(sorted(sys.modules), out)
"""


def loaded_by(args: list[str], tmp_path: Path, **env: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``annexa ARGS`` in a fresh interpreter."""
    return {name.split(".")[0] for name in modules_after(args, tmp_path, **env)}


def modules_after(args: list[str], tmp_path: Path, **env: str) -> set[str]:
    """Every module in ``sys.modules`` after ``annexa ARGS`` in a fresh interpreter."""
    return run_annexa(args, tmp_path, **env)[0]


def run_annexa(args: list[str], tmp_path: Path, **env: str) -> tuple[set[str], str]:
    """``annexa ARGS`` in a fresh interpreter: the modules it loaded and its stderr."""
    out = tmp_path / "modules.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ANNEXA_", "AWS_"))}
    environ |= {
        "LEAN_ARGS": json.dumps(args),
        "LEAN_OUT": str(out),
        "ANNEXA_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert out.exists(), done.stderr
    return set(json.loads(out.read_text())), done.stderr


def test_help_loads_neither_an_sdk_nor_the_store(tmp_path) -> None:
    loaded = loaded_by(["--help"], tmp_path)

    assert "typer" in loaded
    assert not loaded & CLOUD_SDKS
    assert not loaded & {"sqlalchemy", "alembic", "storage", "structlog"}


@pytest.mark.parametrize(
    "args",
    [["status", "--format", "json"], ["checks", "--format", "json"], ["controls"]],
    ids=lambda a: a[0],
)
def test_read_only_commands_load_no_sdk_no_check_module_no_orm(tmp_path, args) -> None:
    modules = modules_after(args, tmp_path)
    loaded = {name.split(".")[0] for name in modules}

    assert "collector.manifest" in modules  # the checks came from the manifest
    assert not loaded & CLOUD_SDKS, sorted(loaded & CLOUD_SDKS)
    if args[0] != "status":  # no store to read: no SQLAlchemy either
        assert not loaded & {"sqlalchemy", "alembic"}, sorted(loaded & {"sqlalchemy", "alembic"})
    # (status loads alembic: a fresh data directory's store is created by migrating it)
    heavy = {"collector.registry", "collector.runner", "sqlalchemy.orm", "structlog"}
    assert not modules & heavy, sorted(modules & heavy)
    check_modules = {m for m in modules if m.startswith("checks.") and m.count(".") >= 1}
    assert check_modules <= {"checks.api", "checks.deadlines", "checks.network"}, check_modules


def test_json_output_with_nothing_to_note_loads_no_rich(tmp_path) -> None:
    soa = "mappings/annex_a/soa.example.yaml"  # given: no "using the example SoA" note
    loaded = loaded_by(["status", "--format", "json", "--soa", soa], tmp_path)

    assert "collector" in loaded
    assert "rich" not in loaded


_STARTS_A_RUN = """
import sys
from datetime import UTC, datetime
from storage import EvidenceStore
EvidenceStore.open(sys.argv[1]).start_run(started_at=datetime.now(UTC))
"""


def test_structlog_is_loaded_when_something_logs_and_logs_as_configured(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'annexa.sqlite'}"
    # a run whose process has exited: the next command that opens the store warns of it
    started = subprocess.run(
        [sys.executable, "-c", _STARTS_A_RUN, url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert started.returncode == 0, started.stderr

    modules, stderr = run_annexa(["--log-format", "json", "status", "--format", "json"], tmp_path)

    assert "structlog" in modules
    warnings = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert [(w["event"], w["level"]) for w in warnings] == [
        ("earlier run was interrupted", "warning")
    ]
