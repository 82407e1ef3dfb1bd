"""``status --at``: each control as it stood at an instant, from stored evidence only (store on
SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

from collector.app import load_workspace
from collector.audit import statuses_at
from collector.settings import load_settings
from storage import EvidenceStore
from tests.store.test_store import T0, evidence

HOUR = timedelta(hours=1)
S3 = "aws.s3.public_access_blocked"
LEGACY = [{"resource": "arn:aws:s3:::legacy", "passed": False, "message": "public"}]


def seed(store: EvidenceStore) -> None:
    """pass at T0, fail (legacy bucket) at T0+2h, pass at T0+4h; exception from T0+1h revoked
    at T0+3h; a policy for A.5.1 uploaded at T0+1h, valid 2h."""
    run = store.start_run(started_at=T0)
    store.append(evidence(run, at=T0))
    store.append(evidence(run, at=T0 + 2 * HOUR, status="fail", findings=LEGACY))
    store.append(evidence(run, at=T0 + 4 * HOUR))
    made = store.add_exception(
        check_id=S3,
        resource_pattern="arn:aws:s3:::legacy",
        target_pattern="*",
        reason="migration",
        approved_by="CISO",
        created_at=T0 + HOUR,
        expires_at=T0 + 100 * HOUR,
        created_by="alice",
    )
    store.revoke_exception(made.id, revoked_at=T0 + 3 * HOUR, revoked_by="bob", reason="done")
    store.add_manual(
        ["A.5.1"],
        b"policy",
        file_name="policy.pdf",
        media_type="application/pdf",
        note="",
        uploaded_at=T0 + HOUR,
        valid_until=T0 + 3 * HOUR,
        uploaded_by="alice",
    )


def s3_reason(status) -> tuple[str, str]:
    [reason] = [r for r in status.reasons if r.check_id == S3]
    return reason.state.value, reason.message


def test_status_at_instants(store: EvidenceStore, tmp_path) -> None:
    seed(store)
    config = tmp_path / "annexa.yaml"
    config.write_text("{}\n")
    workspace = load_workspace(load_settings(config))

    def at(hours: float) -> dict:
        return {s.control.id: s for s in statuses_at(workspace, store, None, T0 + hours * HOUR)}

    before_any = at(-1)
    assert s3_reason(before_any["A.8.3"]) == ("no_evidence", "the check has never run")
    assert before_any["A.5.1"].state.value == "manual"
    assert s3_reason(at(0.5)["A.8.3"]) == ("passing", "1 buckets")
    # failing at T0+2h, but accepted by the exception, revoked only later (at T0+3h)
    accepted = at(2.5)
    assert s3_reason(accepted["A.8.3"])[0] == "accepted"
    assert "1 failing finding accepted by exception #1" in s3_reason(accepted["A.8.3"])[1]
    assert accepted["A.5.1"].state.value == "attested"
    revoked = at(3.5)
    assert s3_reason(revoked["A.8.3"]) == ("failing", "1 buckets")
    assert revoked["A.5.1"].state.value == "stale"
    assert s3_reason(at(4)["A.8.3"]) == ("passing", "1 buckets")


def test_cli_status_at(annexa_db, store_url) -> None:
    with EvidenceStore.open(store_url) as store:
        seed(store)
    code, out, err = annexa_db("status", "--at", "2024-05-01T14:30:00Z", "--format", "json")
    assert code == 0, err
    rows = {r["control"]: r for r in json.loads(out)}
    assert rows["A.5.1"]["state"] == "attested"
    assert any("accepted by exception #1" in r for r in rows["A.8.3"]["reasons"])
    code, out, _ = annexa_db("status", "--at", "2024-05-01T15:30:00+00:00", "--format", "json")
    rows = {r["control"]: r for r in json.loads(out)}
    assert rows["A.5.1"]["state"] == "stale"
    assert rows["A.8.3"]["state"] == "failing"


def test_cli_status_at_bad_instant(annexa) -> None:
    code, _, err = annexa("status", "--at", "31/03/2026")
    assert code == 2 and "--at: '31/03/2026' is not a date or time" in err
