"""OCSF 1.1 Compliance Finding events (class_uid 2003) for evidence findings.

One event per finding per control the check maps to: ``time`` is the collection time in ms,
``compliance.status`` Pass/Fail, the event ``status`` New for a failing finding, Suppressed for
one an exception accepted at collection time, Resolved for a passing one. ``finding_info.uid``
is stable: record id, finding index and control.

About 3 events per record make this the bulk of a package, so each event is spliced from
JSON fragments: the parts that are constant per export, per check and per (check, control)
are encoded once, only the record's values are encoded per event. The bytes are exactly what
``json.dumps(event, ensure_ascii=False, separators=(",", ":"))`` gives for the event dict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring as _str  # type: ignore[attr-defined]
from typing import Any

from collector.exceptions import accepting
from storage import EvidenceRecord, RiskException

__all__ = ["CLASS_UID", "TYPE_UID", "OcsfEvents"]

CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2003, 2, 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200301: Compliance Finding: Create
OCSF_VERSION = "1.1.0"
STANDARD = "ISO/IEC 27001:2022"
SEVERITY_ID = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_PASS, _FAIL = ("Pass", 1), ("Fail", 3)  # compliance.status / status_id
_NEW, _SUPPRESSED, _RESOLVED = ("New", 1), ("Suppressed", 3), ("Resolved", 4)  # event status
_PROVIDERS = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_HEAD = _dump(
    {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
    }
)[:-1]
_STATUS = {s: f'"status":{_str(s[0])},"status_id":{s[1]}' for s in (_NEW, _SUPPRESSED, _RESOLVED)}


class _Check:
    """The fragments constant for one check: severities, title and per-control compliance."""

    def __init__(self, check_id: str, title: str, severity: str, controls: Sequence[str]) -> None:
        severity_id = SEVERITY_ID.get(severity, 99)
        failed = f'"severity_id":{severity_id},"severity":{_str(severity.capitalize())}'
        self.severity = {True: '"severity_id":1,"severity":"Informational"', False: failed}
        self.title = _str(title)
        self.types = f'"types":[{_str(check_id)}]'
        self.compliance = [
            (
                ":" + control,
                {
                    passed: f',"compliance":{{"standards":[{_str(STANDARD)}],'
                    f'"control":{_str(control)},"status":{_str(status[0])},'
                    f'"status_id":{status[1]}}}}}\n'
                    for passed, status in ((True, _PASS), (False, _FAIL))
                },
            )
            for control in controls
        ]


class OcsfEvents:
    """Encodes the events of one export; ``lines`` gives one record's events."""

    def __init__(self, *, product_version: str, exceptions: Sequence[RiskException]) -> None:
        metadata = {
            "product": {"name": "annexa", "vendor_name": "annexa", "version": product_version},
            "version": OCSF_VERSION,
        }
        self._metadata = f',"metadata":{_dump(metadata)}'
        self._exceptions = exceptions
        self._checks: dict[tuple[str, tuple[str, ...]], _Check] = {}

    def lines(
        self,
        record: EvidenceRecord,
        controls: Sequence[str],
        *,
        title: str,
        severity: str,
        evidence_href: str,
    ) -> bytes:
        """Newline-terminated JSON lines for every finding of ``record`` and each control."""
        if not record.findings or not controls:
            return b""
        key = (record.check_id, tuple(controls))
        check = self._checks.get(key)
        if check is None:
            check = self._checks[key] = _Check(record.check_id, title, severity, controls)
        time_ms = str(int(record.collected_at.timestamp() * 1000))
        failing = [str(f.get("resource")) for f in record.findings if not f.get("passed")]
        accepted = (
            accepting(
                self._exceptions, record.check_id, record.target_key, failing, record.collected_at
            )
            if failing
            else {}
        )
        region = _str(record.region) if record.region else None
        cloud = _cloud(record.provider, record.account, region)
        shared = (
            f'{self._metadata},"cloud":{cloud}',
            f',"unmapped":{{"evidence":{_str(evidence_href)},'
            f'"target_key":{_str(record.target_key)}}},"finding_info":{{"uid":',
            f"annexa:{record.id}:",
        )
        out: list[str] = []
        for index, finding in enumerate(record.findings):
            resource = str(finding.get("resource"))
            passed = bool(finding.get("passed"))
            status = _RESOLVED if passed else _SUPPRESSED if resource in accepted else _NEW
            message = str(finding.get("message") or "")
            head = (
                f'{_HEAD},"time":{time_ms},{check.severity[passed]},{_STATUS[status]},'
                f'"message":{_str(message)}{shared[0]},"resources":[{_resource(resource, region)}]'
                f"{shared[1]}"
            )
            info = (
                f',"title":{check.title},"desc":{_str(message) if message else check.title},'
                f'"created_time":{time_ms},{check.types}}}'
            )
            uid = f"{shared[2]}{index}"
            for suffix, compliance in check.compliance:
                out.append(f"{head}{_str(uid + suffix)}{info}{compliance[passed]}")
        return "".join(out).encode()


def _cloud(provider: str, account: str, region: str | None) -> str:
    name = _str(_PROVIDERS.get(provider, provider))
    cloud = f'{{"provider":{name},"account":{{"uid":{_str(account)}}}'
    return f'{cloud},"region":{region}}}' if region else cloud + "}"


def _resource(uid: str, region: str | None) -> str:
    parts = uid.split(":")
    arn = uid.startswith("arn:")
    kind = f"aws:{parts[2]}" if arn and len(parts) > 2 else "Other"
    resource = f'{{"uid":{_str(uid)},"type":{_str(kind)}'
    if arn:
        resource += f',"cloud_partition":{_str(parts[1])}'
    return f'{resource},"region":{region}}}' if region else resource + "}"
