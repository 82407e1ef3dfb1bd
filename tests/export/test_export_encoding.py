"""The export's fast encoders give exactly the plain encoding of the same documents: OCSF
events (the OCSF library's models) and OSCAL observations spliced from pre-encoded fragments,
record files with their observations encoded once; and the zip entries written directly read
back intact."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.export.evidence import SEALED_FIELDS, record_json
from collector.export.ocsf import CloudComplianceFinding, OcsfEvents
from collector.export.oscal import ANNEXA_NS, OscalWriter, observation_uuid, subject_uuid
from collector.export.package import PackageWriter
from storage import EvidenceRecord, RiskException
from storage.sealing import canonical_json
from tests.export.conftest import S3, T0


def make_record(*, region: str | None, findings: list[dict[str, Any]], **kw: Any):
    fields: dict[str, Any] = {
        "run_id": "run-1",
        "check_id": S3,
        "check_version": 2,
        "provider": "aws",
        "account": "111111111111",
        "region": region,
        "collected_at": T0 + timedelta(hours=5, microseconds=123456),
        "status": "fail",
        "summary": 'é "quoted" \\ summary',
        "findings": findings,
        "observations": {"buckets": ["logs", "données"], "nested": {"b": 1, "a": [None, True]}},
        "error": None,
        "id": 42,
        "content_hash": "c" * 64,
        "previous_hash": "p" * 64,
    }
    return EvidenceRecord(**(fields | kw))


FINDINGS = [
    {"resource": "arn:aws:s3:::logs", "passed": False, "message": 'public "ACL" — ünïcode'},
    {"resource": "arn:aws-cn:s3:::data", "passed": False, "message": ""},
    {"resource": "not-an-arn", "passed": True, "message": "ok\n"},
    {"resource": "arn:aws:iam::1:role/x", "passed": True},
]
EXCEPTION = RiskException(
    id=1,
    check_id=S3,
    resource_pattern="arn:aws:s3:::logs",
    target_pattern="*",
    reason="by design",
    approved_by="cto",
    created_at=T0,
    expires_at=T0 + timedelta(days=1),
    created_by="ciso",
)


def reference_ocsf(record: EvidenceRecord, controls, *, title, severity, href, version):
    """The events built with the OCSF library's models (what the spliced lines must be)."""
    from py_ocsf_models.objects.account import Account
    from py_ocsf_models.objects.analytic import Analytic
    from py_ocsf_models.objects.cloud import Cloud
    from py_ocsf_models.objects.compliance import Compliance
    from py_ocsf_models.objects.finding_info import FindingInformation
    from py_ocsf_models.objects.metadata import Metadata
    from py_ocsf_models.objects.product import Product
    from py_ocsf_models.objects.remediation import Remediation
    from py_ocsf_models.objects.resource_details import ResourceDetails

    severity_id = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
    time_ms = int(record.collected_at.timestamp() * 1000)
    metadata = Metadata(
        product=Product(name="annexa", vendor_name="annexa", version=version),
        version="1.5.0",
        profiles=["cloud"],
        log_provider="annexa",
        tenant_uid=record.account,
    )
    account = Account(name=record.account, uid=record.account, type_id=10, type="AWS Account")
    cloud = Cloud(provider="AWS", account=account, region=record.region)
    analytic = Analytic(uid=record.check_id, name=title, type_id=1, type="Rule", version="2")
    events = []
    for index, finding in enumerate(record.findings):
        uid, passed = str(finding["resource"]), bool(finding["passed"])
        message = str(finding.get("message") or "")
        status = (
            ("Resolved", 4)
            if passed
            else ("Suppressed", 3)
            if uid == "arn:aws:s3:::logs"
            else ("New", 1)
        )
        parts = uid.split(":")
        arn = uid.startswith("arn:")
        resource = ResourceDetails(
            uid=uid,
            type=f"aws:{parts[2]}" if arn else "Other",
            cloud_partition=parts[1] if arn else None,
            region=record.region,
        )
        for control in controls:
            event = CloudComplianceFinding(
                activity_id=1,
                activity_name="Create",
                category_uid=2,
                category_name="Findings",
                class_uid=2003,
                class_name="Compliance Finding",
                type_uid=200301,
                type_name="Compliance Finding: Create",
                confidence_id=3,
                confidence="High",
                timezone_offset=0,
                time=time_ms,
                severity_id=1 if passed else severity_id[severity],
                severity="Informational" if passed else severity.capitalize(),
                status=status[0],
                status_id=status[1],
                message=message,
                metadata=metadata,
                cloud=cloud,
                resources=[resource],
                remediation=Remediation(desc="Turn on all four block settings"),
                unmapped={"evidence": href, "target_key": record.target_key},
                finding_info=FindingInformation(
                    uid=f"annexa:{record.id}:{index}:{control}",
                    title=title,
                    desc=message or title,
                    created_time=time_ms,
                    types=[record.check_id],
                    analytic=analytic,
                ),
                compliance=Compliance(
                    standards=["ISO/IEC 27001:2022"], control=control, status_id=1 if passed else 3
                ),
            )
            events.append(json.loads(event.model_dump_json(exclude_none=True)))
    return events


@pytest.mark.parametrize("region", ["eu-west-1", None])
def test_ocsf_events_are_the_library_models(region: str | None) -> None:
    """The spliced lines are exactly the events the library's models give."""
    events = OcsfEvents(product_version="1.2.3", exceptions=[EXCEPTION])
    record = make_record(region=region, findings=FINDINGS)
    args = {"title": 'S3 "public" — ü', "severity": "high"}
    for controls in (["A.8.12", "A.8.3"], ["A.5.15"], ["A.8.12", "A.8.3"]):  # cached template
        got = events.lines(
            record,
            controls,
            **args,
            evidence_href="evidence/x/42.json",
            remediation="Turn on all four block settings",
        )
        assert got.endswith(b"\n")
        want = reference_ocsf(record, controls, **args, href="evidence/x/42.json", version="1.2.3")
        assert [json.loads(line) for line in got.decode().splitlines()] == want
    assert (
        events.lines(make_record(region=region, findings=[]), ["A.8.12"], **args, evidence_href="x")
        == b""
    )


@pytest.mark.parametrize("max_age", [timedelta(hours=12), None])
def test_oscal_observation_is_the_plain_encoding(tmp_path: Path, max_age) -> None:
    record = make_record(region="eu-west-1", findings=FINDINGS)
    out = tmp_path / "oscal.json"
    with out.open("w", encoding="utf-8") as f:
        writer = OscalWriter(f)
        uuid_ = observation_uuid(record.id, record.content_hash)
        writer.observation(record, uuid_, 'evidence/"a"/42.json', "s" * 64, max_age)
    href = 'evidence/"a"/42.json'
    item: dict[str, Any] = {
        "uuid": uuid_,
        "title": f"{S3} @ aws:111111111111:eu-west-1",
        "description": f"fail: {record.summary}",
        "props": [
            {"name": "evidence-status", "ns": ANNEXA_NS, "value": "fail"},
            {"name": "content-hash", "ns": ANNEXA_NS, "value": "c" * 64},
        ],
        "methods": ["AUTOMATED"],
        "types": ["finding"],
        "subjects": [  # the failing resources, sorted
            {"subject-uuid": subject_uuid(r), "type": "inventory-item", "title": r}
            for r in ("arn:aws-cn:s3:::data", "arn:aws:s3:::logs")
        ],
        "collected": "2025-03-01T05:00:00Z",
    }
    if max_age is not None:
        item["expires"] = "2025-03-01T17:00:00Z"
    item["relevant-evidence"] = [
        {
            "href": href,
            "description": "Sealed evidence record #42",
            "props": [{"name": "hash", "ns": ANNEXA_NS, "class": "SHA-256", "value": "s" * 64}],
            "links": [{"href": href, "rel": "evidence", "media-type": "application/json"}],
        }
    ]
    assert out.read_text() == json.dumps(item, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("error", [None, "AccessDenied: s3:ListAllMyBuckets"])
def test_record_file_is_the_canonical_document(error: str | None) -> None:
    record = make_record(region=None, findings=FINDINGS, error=error)
    document: dict[str, Any] = {name: getattr(record, name) for name in SEALED_FIELDS}
    document |= {
        "id": record.id,
        "target_key": record.target_key,
        "observations": record.observations,
        "observations_hash": hashlib.sha256(canonical_json(record.observations)).hexdigest(),
        "content_hash": record.content_hash,
        "previous_hash": record.previous_hash,
    }
    assert record_json(record) == canonical_json(document) + b"\n"


def test_direct_entries_read_back(tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    files = {f"evidence/{i}/ü{i}.json": (b"x" * i + "é".encode()) for i in range(0, 3000, 7)}
    with PackageWriter(out, tmp_path, created=T0) as writer:
        sums = {path: writer.add(path, data) for path, data in files.items()}
        with writer.open("big.jsonl") as f:
            f.write(b"line\n" * 10_000)
        writer.finish()
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        for path, data in files.items():
            assert z.read(path) == data and sums[path] == hashlib.sha256(data).hexdigest()
        lines = z.read("SHA256SUMS").decode().splitlines()
        assert dict(line.split("  ")[::-1] for line in lines) == sums | {
            "big.jsonl": hashlib.sha256(b"line\n" * 10_000).hexdigest()
        }
        assert z.read("big.jsonl") == b"line\n" * 10_000


def test_duplicate_path_aborts_the_package(tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    writer = PackageWriter(out, tmp_path, created=T0)
    with pytest.raises(ValueError, match=r"duplicate package path a/ü\.json$"), writer:
        writer.add("a/ü.json", b"1")
        writer.add("b.json", b"2")
        writer.add("a/ü.json", b"3")  # found when the batch is indexed, at the latest here:
        writer.finish()
    assert not out.exists() and not writer.partial.exists()
