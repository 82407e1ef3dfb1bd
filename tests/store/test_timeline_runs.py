"""The store's run-length compressed timeline (``timeline(max_ages=...)``, read in one pass)
agrees with the reference: the full timeline compressed by ``continuity.compress``."""

from __future__ import annotations

from datetime import timedelta

from collector.continuity import compress
from storage import EvidenceStore, EvidenceSummary
from tests.store.test_store import T0, evidence

H = timedelta(hours=1)
S3, KMS = "aws.s3.public_access_blocked", "aws.kms.rotation"


def failing(*resources: str, ok: str = "ok") -> list[dict]:
    return [{"resource": r, "passed": False, "message": "public"} for r in resources] + [
        {"resource": "arn:aws:s3:::fine", "passed": True, "message": ok}
    ]


def seed(store: EvidenceStore) -> None:
    """Two checks over two regions: runs of one verdict, a verdict repeated with other text,
    errors before and after conclusive records, a gap longer than the maximum age."""
    run = store.start_run(started_at=T0)
    s3 = [
        (0, "pass", None),
        (1, "pass", None),  # before the period: the record in force at its start
        (3, "pass", None),
        (4, "fail", failing("a")),
        (5, "fail", failing("a", ok="still fine")),  # other text, same verdict
        (6, "error", []),
        (7, "error", []),
        (8, "fail", failing("a")),
        (9, "fail", failing("a", "b")),
        (10, "pass", None),
        (20, "pass", None),  # 10 h after the last: longer than the 6 h maximum age
        (21, "pass", None),
        (22, "error", []),
    ]
    for hours, status, findings in s3:
        store.append(
            evidence(run, check_id=S3, at=T0 + hours * H, status=status, findings=findings)
        )
        store.append(
            evidence(
                run,
                check_id=S3,
                region="us-east-1",
                at=T0 + hours * H + timedelta(minutes=1),
                status="pass" if hours % 5 else "fail",
                findings=None if hours % 5 else failing("c"),
            )
        )
    for hours in (2, 12, 30):  # no maximum age: never stale
        store.append(evidence(run, check_id=KMS, at=T0 + hours * H, status="error", findings=[]))
        store.append(evidence(run, check_id=KMS, at=T0 + hours * H + H))


def by_key(items: list[EvidenceSummary]) -> list[EvidenceSummary]:
    return sorted(items, key=lambda s: (s.check_id, s.target_key, s.collected_at))


def test_compressed_read_equals_compressing_the_full_timeline(store: EvidenceStore) -> None:
    seed(store)
    max_ages = {S3: 6 * H, KMS: None}
    start, end = T0 + 2 * H, T0 + 40 * H
    reference = by_key(list(compress(store.timeline(start, end), max_ages)))
    fast = by_key(list(store.timeline(start, end, max_ages=max_ages)))
    assert fast == reference
    assert len(fast) < len(list(store.timeline(start, end)))
    # the runs the rule must keep apart: the error run, the fix, the stale gap at 10 -> 20 h
    s3 = [
        (s.status, s.collected_at - T0, s.last_conclusive_at and s.last_conclusive_at - T0)
        for s in fast
        if s.check_id == S3 and s.region == "eu-west-1"
    ]
    assert s3 == [
        ("pass", 1 * H, 3 * H),
        ("fail", 4 * H, 5 * H),
        ("error", 6 * H, 5 * H),
        ("fail", 8 * H, 8 * H),
        ("fail", 9 * H, 9 * H),
        ("pass", 10 * H, 10 * H),
        ("pass", 20 * H, 21 * H),
        ("error", 22 * H, 21 * H),
    ]
