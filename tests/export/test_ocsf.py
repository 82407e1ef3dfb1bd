"""Every line of ``findings.ocsf.jsonl`` is a valid OCSF Compliance Finding of the version and
profiles it declares, checked by an independent validator (the JSON Schema that the
``ocsf-json-schema`` package generates from the published OCSF schema, unknown attributes
refused), and reads back into the ``py-ocsf-models`` model without losing an attribute."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from collector.export.ocsf import CloudComplianceFinding
from storage import EvidenceStore, NewEvidence
from tests.export.conftest import DAY, S3, T0, export_period, seed, shared_workspace

OKTA = "okta.users.mfa_enrolled"
AZURE = "azure.storage.secure_transfer_required"


@cache
def validator(version: str, profiles: tuple[str, ...]) -> jsonschema.Draft202012Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version)).get_class_schema(
        "compliance_finding", list(profiles)
    )
    return jsonschema.Draft202012Validator(schema)


def errors(event: dict[str, Any]) -> list[str]:
    metadata = event["metadata"]
    check = validator(metadata["version"], tuple(sorted(metadata.get("profiles", ()))))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(event)]


def test_validator_refuses_what_1_1_refused() -> None:
    """The validator is strict: the issue's two errors against 1.1.0 are found, as is an
    unknown attribute and a cloud attribute without the profile."""
    event = {
        "activity_id": 1,
        "category_uid": 2,
        "class_uid": 2003,
        "type_uid": 200301,
        "severity_id": 1,
        "time": 0,
        "metadata": {"product": {"name": "annexa", "vendor_name": "annexa"}, "version": "1.1.0"},
        "finding_info": {"uid": "u", "title": "t"},
        "compliance": {"standards": ["ISO/IEC 27001:2022"]},
        "resources": [{"uid": "x"}],
        "cloud": {"provider": "AWS"},
    }
    found = errors(event)
    assert any("resources" in e for e in found) and any("cloud" in e for e in found)
    event["metadata"] = {"product": {"name": "annexa", "vendor_name": "annexa"}, "version": "1.5.0"}
    event["resources"] = [{"uid": "x", "region": "eu-west-1"}]
    assert any("region" in e for e in errors(event))
    event["metadata"]["profiles"] = ["cloud"]
    assert errors(event) == []
    event["surprise"] = 1
    assert any("surprise" in e for e in errors(event))


def _record(run: str, check: str, provider: str, account: str, region: str | None, fail: bool):
    return NewEvidence(
        run_id=run,
        check_id=check,
        check_version=3,
        provider=provider,
        account=account,
        region=region,
        collected_at=T0 + timedelta(hours=3),
        status="fail" if fail else "pass",
        summary="",
        findings=[
            {"resource": "user-1@example.com", "passed": not fail, "message": "no factor"},
            {"resource": "user-2", "passed": True, "message": ""},
        ],
        observations={},
    )


def test_every_exported_event_is_valid(sqlite_url: str, tmp_path: Path) -> None:
    store = EvidenceStore.open(sqlite_url)
    try:
        seed(store)
        run = store.start_run(started_at=T0 + DAY)
        store.append(_record(run, OKTA, "okta", "acme.okta.com", None, fail=True))
        store.append(_record(run, AZURE, "azure", "sub-1", "westeurope", fail=False))
        package = export_period(store, tmp_path / "audit.zip")
    finally:
        store.close()
    lines = package.read("findings.ocsf.jsonl").decode().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) > 20
    for event in events:
        assert errors(event) == [], event
        # the library's model knows every attribute: nothing is dropped reading it back
        model = CloudComplianceFinding.model_validate(event)
        assert json.loads(model.model_dump_json(exclude_none=True)) == event
        assert event["metadata"]["version"] == "1.5.0"
        assert event["metadata"]["log_provider"] == "annexa"
        assert event["timezone_offset"] == 0 and event["confidence_id"] == 3
    by_check: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_check.setdefault(event["finding_info"]["analytic"]["uid"], []).append(event)
    assert set(by_check) == {S3, "aws.cloudtrail.log_file_validation", OKTA, AZURE}
    aws = by_check[S3][0]
    assert aws["metadata"]["profiles"] == ["cloud"] and aws["metadata"]["tenant_uid"] == (
        "111111111111"
    )
    assert aws["cloud"]["account"] == {
        "name": "111111111111",
        "uid": "111111111111",
        "type_id": 10,
        "type": "AWS Account",
    }
    assert aws["resources"][0]["cloud_partition"] == "aws"
    assert aws["remediation"]["desc"]
    okta = by_check[OKTA]
    assert all("cloud" not in e and "profiles" not in e["metadata"] for e in okta)
    assert all(set(e["resources"][0]) == {"uid", "type"} for e in okta)
    assert {(e["status"], e["compliance"]["status_id"]) for e in okta} == {
        ("New", 3),
        ("Resolved", 1),
    }
    assert okta[0]["finding_info"]["analytic"] == {
        "uid": OKTA,
        "name": shared_workspace().registry.checks[OKTA].title,
        "type_id": 1,
        "type": "Rule",
        "version": "3",
    }
    azure = by_check[AZURE][0]
    assert azure["cloud"]["provider"] == "Azure" and azure["cloud"]["region"] == "westeurope"
    assert azure["resources"][0] == {
        "uid": "user-1@example.com",
        "type": "Other",
        "region": "westeurope",
    }
