"""The daemon's run records the accounts it resolved, at start and at each reload: ``status``
beside the daemon then counts the same accounts as the daemon's own metrics."""

from __future__ import annotations

from collector.accounts import Account
from collector.app import load_workspace
from collector.daemon import Daemon
from storage import EvidenceStore
from tests.daemon import running, settings, wait_for

S3 = "aws.s3.public_access_blocked"
OLD, NEW = "111111111111", "222222222222"


def test_the_daemon_run_records_the_accounts_of_its_latest_load(sqlite_url) -> None:
    resolved = [Account("aws", OLD, identity="keys of the old account")]
    config = settings(sqlite_url, [S3], {S3: "1h"})
    daemon = Daemon(config, accounts=lambda *_: list(resolved), poll=0.1)

    def recorded() -> dict | None:
        with EvidenceStore.open(sqlite_url) as store:
            run = store.get_run(daemon.run_id) if daemon.run_id else None
            return run.collected_by if run else None

    with running(daemon):
        assert wait_for(recorded) == {f"aws:{OLD}": "keys of the old account"}
        resolved[:] = [Account("aws", NEW, error="cannot access AWS account default: denied")]
        daemon.request_reload()
        wait_for(lambda: recorded() == {f"aws:{NEW}": None})
    with EvidenceStore.open(sqlite_url) as store:
        scope = load_workspace(config).scope(store=store)
        assert store.verify_report().problem is None  # each change is in the ledger
    assert scope.accounts["aws"] == {NEW}  # the default entry: only resolution names it
