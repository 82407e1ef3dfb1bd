"""ACM checks: issued certificates are not about to expire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot

MIN_DAYS_LEFT = 30


class Certificate(SnapshotPart):
    arn: str
    domain: str
    not_after: AwareDatetime


class AcmCertificates(_AwsSnapshot):
    """Every issued certificate in one region; ``collected_at`` is "now" for expiry."""

    resource_noun: ClassVar[str] = "certificates"

    region: str
    collected_at: AwareDatetime
    certificates: tuple[Certificate, ...]


@check(
    id="aws.acm.certificates_not_expiring",
    title=f"ACM certificates are valid for more than {MIN_DAYS_LEFT} more days",
    severity="high",
    interval="24h",
    remediation="Fix DNS or email validation so ACM can renew the certificate, or re-import a "
    "renewed certificate (imported certificates never renew automatically); delete unused ones.",
)
def certificates_not_expiring(snapshot: AcmCertificates) -> Iterator[Finding]:
    """Passes when NotAfter is more than 30 days after the collection time."""
    for cert in snapshot.certificates:
        left = cert.not_after - snapshot.collected_at
        yield Finding(
            resource=cert.arn,
            passed=left > timedelta(days=MIN_DAYS_LEFT),
            message=f"{cert.domain} expires {cert.not_after:%Y-%m-%d} ({left.days} day(s) left)"
            if left > timedelta(0)
            else f"{cert.domain} expired {cert.not_after:%Y-%m-%d}",
        )
