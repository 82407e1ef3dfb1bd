"""OCSF 1.1 Compliance Finding events (class_uid 2003) for evidence findings.

One event per finding per control the check maps to: ``time`` is the collection time in ms,
``compliance.status`` Pass/Fail, the event ``status`` New for a failing finding, Suppressed for
one an exception accepted at collection time, Resolved for a passing one. ``finding_info.uid``
is stable: record id, finding index and control.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from collector.exceptions import accepting
from storage import EvidenceRecord, RiskException

__all__ = ["CLASS_UID", "TYPE_UID", "ocsf_lines"]

CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2003, 2, 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200301: Compliance Finding: Create
OCSF_VERSION = "1.1.0"
STANDARD = "ISO/IEC 27001:2022"
SEVERITY_ID = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_PASS, _FAIL = ("Pass", 1), ("Fail", 3)  # compliance.status / status_id
_NEW, _SUPPRESSED, _RESOLVED = ("New", 1), ("Suppressed", 3), ("Resolved", 4)  # event status
_PROVIDERS = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}


def ocsf_lines(
    record: EvidenceRecord,
    controls: Sequence[str],
    *,
    title: str,
    severity: str,
    evidence_href: str,
    exceptions: Sequence[RiskException],
    product_version: str,
) -> Iterator[bytes]:
    """JSON lines (newline-terminated) for every finding of ``record`` and each control."""
    if not record.findings or not controls:
        return
    time_ms = int(record.collected_at.timestamp() * 1000)
    failing = [str(f.get("resource")) for f in record.findings if not f.get("passed")]
    accepted = (
        accepting(exceptions, record.check_id, record.target_key, failing, record.collected_at)
        if failing
        else {}
    )
    cloud = _cloud(record)
    metadata = {
        "product": {"name": "annexa", "vendor_name": "annexa", "version": product_version},
        "version": OCSF_VERSION,
    }
    for index, finding in enumerate(record.findings):
        resource = str(finding.get("resource"))
        passed = bool(finding.get("passed"))
        compliance_status = _PASS if passed else _FAIL
        status = _RESOLVED if passed else _SUPPRESSED if resource in accepted else _NEW
        message = str(finding.get("message") or "")
        base: dict[str, Any] = {
            "activity_id": ACTIVITY_CREATE,
            "activity_name": "Create",
            "category_uid": CATEGORY_UID,
            "category_name": "Findings",
            "class_uid": CLASS_UID,
            "class_name": "Compliance Finding",
            "type_uid": TYPE_UID,
            "type_name": "Compliance Finding: Create",
            "time": time_ms,
            "severity_id": 1 if passed else SEVERITY_ID.get(severity, 99),
            "severity": "Informational" if passed else severity.capitalize(),
            "status": status[0],
            "status_id": status[1],
            "message": message,
            "metadata": metadata,
            "cloud": cloud,
            "resources": [_resource(record, resource)],
            "unmapped": {"evidence": evidence_href, "target_key": record.target_key},
        }
        for control in controls:
            event = base | {
                "finding_info": {
                    "uid": f"annexa:{record.id}:{index}:{control}",
                    "title": title,
                    "desc": message or title,
                    "created_time": time_ms,
                    "types": [record.check_id],
                },
                "compliance": {
                    "standards": [STANDARD],
                    "control": control,
                    "status": compliance_status[0],
                    "status_id": compliance_status[1],
                },
            }
            yield json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _cloud(record: EvidenceRecord) -> dict[str, Any]:
    cloud: dict[str, Any] = {
        "provider": _PROVIDERS.get(record.provider, record.provider),
        "account": {"uid": record.account},
    }
    if record.region:
        cloud["region"] = record.region
    return cloud


def _resource(record: EvidenceRecord, uid: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"uid": uid, "type": _resource_type(uid)}
    if uid.startswith("arn:"):
        resource["cloud_partition"] = uid.split(":", 2)[1]
    if record.region:
        resource["region"] = record.region
    return resource


def _resource_type(uid: str) -> str:
    """``s3`` for an ARN (its service), else the record's resource kind is unknown: Other."""
    parts = uid.split(":")
    return f"aws:{parts[2]}" if uid.startswith("arn:") and len(parts) > 2 else "Other"
