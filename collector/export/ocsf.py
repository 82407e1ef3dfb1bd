"""OCSF Compliance Finding events (class_uid 2003) for evidence findings, in the OCSF version
of the ``py-ocsf-models`` library (1.5.0), with the ``cloud`` profile on AWS, Azure and GCP
events (listed in ``metadata.profiles``).

One event per finding per control the check maps to: ``time`` is the collection time in ms,
``compliance.status_id`` Pass/Fail, the event ``status`` New for a failing finding, Suppressed
for one an exception accepted at collection time, Resolved for a passing one;
``finding_info.analytic`` names the check (a rule, with its version), ``remediation`` is the
check's, ``confidence_id`` High (the verdict is read from the provider's own configuration API,
not inferred). ``finding_info.uid`` is stable: record id, finding index and control.

About 3 events per record make this the bulk of a package, so the objects that are constant per
target, per check and per (control, verdict) are built once with the library's models (which
validate them) and encoded once; only the finding's own values are encoded per event.
``tests/export/test_ocsf.py`` reads every line back into the library's model and validates it
against the OCSF JSON schema of the declared version and profiles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring as _str  # type: ignore[attr-defined]

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.account import Account, TypeID
from py_ocsf_models.objects.analytic import Analytic
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatus
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from pydantic import BaseModel

from collector.exceptions import accepting
from storage import EvidenceRecord, RiskException

__all__ = ["CLASS_UID", "OCSF_VERSION", "TYPE_UID", "CloudComplianceFinding", "OcsfEvents"]

CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2003, 2, 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200301: Compliance Finding: Create
STANDARD = "ISO/IEC 27001:2022"
SEVERITY_ID = {"informational": 1, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_NEW, _SUPPRESSED, _RESOLVED = ("New", 1), ("Suppressed", 3), ("Resolved", 4)  # event status
#: provider -> (cloud.provider, account type_id, account type) for the cloud profile
_CLOUDS = {
    "aws": ("AWS", TypeID.AWS_Account, "AWS Account"),
    # the library's enum stops at 10; OCSF 1.5 adds 11 GCP Project and 13 Azure Subscription
    "azure": ("Azure", TypeID.Other, "Azure Subscription"),
    "gcp": ("GCP", TypeID.Other, "GCP Project"),
}
CLOUD_PROFILE = "cloud"
_ANALYTIC_RULE = 1


class CloudComplianceFinding(ComplianceFinding):
    """The library's Compliance Finding with the ``cloud`` profile's attribute."""

    cloud: Cloud | None = None


def _json(model: BaseModel) -> str:
    return model.model_dump_json(exclude_none=True)


_HEAD = json.dumps(
    {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "confidence_id": 3,
        "confidence": "High",
        "timezone_offset": 0,
    },
    separators=(",", ":"),
)[:-1]
_STATUS = {s: f'"status":{_str(s[0])},"status_id":{s[1]}' for s in (_NEW, _SUPPRESSED, _RESOLVED)}


class _Check:
    """The fragments constant for one check: severities, title, analytic, remediation and the
    per-control compliance objects."""

    def __init__(
        self,
        check_id: str,
        version: int,
        title: str,
        severity: str,
        remediation: str,
        controls: Sequence[str],
    ) -> None:
        severity_id = SEVERITY_ID.get(severity, 99)
        failed = f'"severity_id":{severity_id},"severity":{_str(severity.capitalize())}'
        self.severity = {True: '"severity_id":1,"severity":"Informational"', False: failed}
        self.title = _str(title)
        analytic = Analytic(
            uid=check_id, name=title, type_id=_ANALYTIC_RULE, type="Rule", version=str(version)
        )
        self.types = f'"types":[{_str(check_id)}],"analytic":{_json(analytic)}'
        self.remediation = (
            f',"remediation":{_json(Remediation(desc=remediation))}' if remediation else ""
        )
        self.compliance = [
            (
                ":" + control,
                {
                    passed: f',"compliance":{_json(compliance)}}}\n'
                    for passed, compliance in (
                        (True, _compliance(control, ComplianceStatus.Pass)),
                        (False, _compliance(control, ComplianceStatus.Fail)),
                    )
                },
            )
            for control in controls
        ]


def _compliance(control: str, status: ComplianceStatus) -> Compliance:
    return Compliance(standards=[STANDARD], control=control, status_id=status)


class OcsfEvents:
    """Encodes the events of one export; ``lines`` gives one record's events."""

    def __init__(self, *, product_version: str, exceptions: Sequence[RiskException]) -> None:
        self._product = Product(name="annexa", vendor_name="annexa", version=product_version)
        self._exceptions = exceptions
        self._checks: dict[tuple[str, int, tuple[str, ...]], _Check] = {}
        self._targets: dict[tuple[str, str, str | None], str] = {}

    def _target(self, provider: str, account: str, region: str | None) -> str:
        """``"metadata":{...}[,"cloud":{...}]`` for one target (encoded once)."""
        key = (provider, account, region)
        fragment = self._targets.get(key)
        if fragment is None:
            cloud = _CLOUDS.get(provider)
            metadata = Metadata(
                product=self._product,
                version=OCSF_VERSION,
                profiles=[CLOUD_PROFILE] if cloud else None,
                log_provider="annexa",
                tenant_uid=account,
            )
            fragment = f'"metadata":{_json(metadata)}'
            if cloud:
                name, type_id, kind = cloud
                holder = Account(name=account, uid=account, type_id=type_id, type=kind)
                located = Cloud(provider=name, account=holder, region=region)
                fragment += f',"cloud":{_json(located)}'
            self._targets[key] = fragment
        return fragment

    def lines(
        self,
        record: EvidenceRecord,
        controls: Sequence[str],
        *,
        title: str,
        severity: str,
        evidence_href: str,
        remediation: str = "",
    ) -> bytes:
        """Newline-terminated JSON lines for every finding of ``record`` and each control."""
        if not record.findings or not controls:
            return b""
        key = (record.check_id, record.check_version, tuple(controls))
        check = self._checks.get(key)
        if check is None:
            check = self._checks[key] = _Check(
                record.check_id, record.check_version, title, severity, remediation, controls
            )
        time_ms = str(int(record.collected_at.timestamp() * 1000))
        failing = [str(f.get("resource")) for f in record.findings if not f.get("passed")]
        accepted = (
            accepting(
                self._exceptions, record.check_id, record.target_key, failing, record.collected_at
            )
            if failing
            else {}
        )
        cloud = record.provider in _CLOUDS
        region = _str(record.region) if record.region and cloud else None
        shared = (
            f",{self._target(record.provider, record.account, record.region if cloud else None)}",
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
                f'"message":{_str(message)}{shared[0]},'
                f'"resources":[{_resource(resource, region, cloud)}]{check.remediation}'
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


def _resource(uid: str, region: str | None, cloud: bool) -> str:
    """A resource: its type from an ARN's service; partition and region (cloud profile)."""
    parts = uid.split(":")
    arn = uid.startswith("arn:")
    kind = f"aws:{parts[2]}" if arn and len(parts) > 2 else "Other"
    resource = f'{{"uid":{_str(uid)},"type":{_str(kind)}'
    if arn and cloud:
        resource += f',"cloud_partition":{_str(parts[1])}'
    return f'{resource},"region":{region}}}' if region else resource + "}"
