"""GuardDuty findings collector: active findings of severity 7 and above, per detector."""

from __future__ import annotations

from checks.aws.guardduty import HIGH_SEVERITY, GuardDutyFindings, ThreatFinding
from checks.aws.models import GuardDutyDetectors
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.clock import utcnow
from collector.collect import collects

_ACTIVE_HIGH = {
    "Criterion": {
        "severity": {"GreaterThanOrEqual": int(HIGH_SEVERITY)},
        "service.archived": {"Equals": ["false"]},
    }
}


@collects(
    GuardDutyFindings,
    permissions=[
        "guardduty:ListDetectors",
        "guardduty:GetDetector",
        "guardduty:ListFindings",
        "guardduty:GetFindings",
    ],
    scope="region",
)
def guardduty_findings(scope: AwsScope) -> GuardDutyFindings:
    """No detector: no findings to judge (``aws.guardduty.enabled`` judges that). The detector
    list is the region's ``GuardDutyDetectors`` snapshot, so ListDetectors runs once."""
    client, now = scope.client("guardduty"), utcnow()
    detectors = tuple(d.detector_id for d in scope.get(GuardDutyDetectors).detectors)
    items = []
    for detector in detectors:
        ids = pages(
            client, "list_findings", "FindingIds", DetectorId=detector, FindingCriteria=_ACTIVE_HIGH
        )
        for start in range(0, len(ids), 50):  # GetFindings takes at most 50 ids
            answer = client.get_findings(DetectorId=detector, FindingIds=ids[start : start + 50])
            items.extend(
                ThreatFinding(
                    arn=f["Arn"],
                    title=f["Title"],
                    kind=f["Type"],
                    severity=float(f["Severity"]),
                    created_at=f["CreatedAt"],
                )
                for f in answer["Findings"]
            )
    return GuardDutyFindings(
        region=scope.region,
        collected_at=now,
        max_age_days=scope.settings.finding_max_age_days,
        detectors=detectors,
        items=tuple(items),
    )
