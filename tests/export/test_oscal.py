"""The package's OSCAL documents are valid for the OSCAL version they declare: NIST's JSON
schemas of that release (``tests/data/oscal/``, from NIST's OSCAL v1.2.1 release as kept in
compliance-trestle's ``release-schemas/``) and compliance-trestle's models both accept them;
``import-ap`` resolves to the plan in the package; failing resources are subjects; controls
that automated checks do not assess are not reported as not satisfied."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from trestle.oscal import OSCAL_VERSION as TRESTLE_OSCAL_VERSION
from trestle.oscal.assessment_plan import AssessmentPlan
from trestle.oscal.assessment_results import AssessmentResults

from collector.export.oscal import OSCAL_VERSION, PLAN_PATH
from storage import EvidenceStore
from tests.export.conftest import S3, TRAIL, export_period

SCHEMAS = Path(__file__).parent.parent / "data" / "oscal"


@cache
def nist_schema(model: str) -> jsonschema.Draft7Validator:
    """NIST's schema; Python's ``re`` lacks ``\\p{L}``/``\\p{N}``, so those two classes are
    spelled as the equivalent ``[^\\W\\d_]`` (a letter) and ``\\d`` (a digit)."""
    text = (SCHEMAS / f"oscal_{model}_schema.json").read_text()
    text = text.replace(r"\\p{L}", r"[^\\W\\d_]").replace(r"\\p{N}", r"\\d")
    schema = json.loads(text)
    assert (
        schema["$id"]
        == f"http://csrc.nist.gov/ns/oscal/{OSCAL_VERSION}/oscal-{_short(model)}-schema.json"
    )
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def _short(model: str) -> str:
    return {"assessment-results": "ar", "assessment-plan": "ap"}[model]


def schema_errors(model: str, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in nist_schema(model).iter_errors(document)
    ]


def test_declared_version_is_the_validated_one() -> None:
    assert OSCAL_VERSION == TRESTLE_OSCAL_VERSION


def test_schema_is_strict() -> None:
    """The validator refuses what the old export did wrong and an unknown field."""
    bad = {"assessment-results": {"uuid": "not-a-uuid", "metadata": {}, "surprise": 1}}
    found = " ".join(schema_errors("assessment-results", bad))
    assert "not-a-uuid" in found and "surprise" in found and "import-ap" in found


def test_exported_oscal_is_valid(seeded: EvidenceStore, tmp_path: Path) -> None:
    controls = ["A.8.3", "A.8.15", "A.5.1", "A.5.2", "A.7.5", "A.8.24"]
    z = export_period(seeded, tmp_path / "audit.zip", controls=controls)
    results = json.loads(z.read("assessment-results.oscal.json"))
    plan = json.loads(z.read(PLAN_PATH))
    assert schema_errors("assessment-results", results) == []
    assert schema_errors("assessment-plan", plan) == []
    AssessmentResults.model_validate(results["assessment-results"])
    AssessmentPlan.model_validate(plan["assessment-plan"])

    ar, ap = results["assessment-results"], plan["assessment-plan"]
    assert ar["metadata"]["oscal-version"] == ap["metadata"]["oscal-version"] == OSCAL_VERSION
    assert ar["import-ap"]["href"] == PLAN_PATH
    planned = [
        c["control-id"]
        for c in ap["reviewed-controls"]["control-selections"][0]["include-controls"]
    ]
    assert "A.7.5" not in planned  # excluded in the example SoA
    assert {"A.8.3", "A.8.15", "A.5.1"} <= set(planned)
    activities = {a["props"][0]["value"]: a for a in ap["local-definitions"]["activities"]}
    assert {S3, TRAIL} <= set(activities)
    s3_controls = {
        c["control-id"]
        for c in activities[S3]["related-controls"]["control-selections"][0]["include-controls"]
    }
    assert "A.8.3" in s3_controls and s3_controls <= set(controls)
    [ssp] = ap["back-matter"]["resources"]
    assert ap["import-ssp"]["href"] == f"#{ssp['uuid']}"

    [result] = ar["results"]
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    # A.8.24 (mapped checks that never ran here) is not assessed automatically: no finding,
    # not among the reviewed controls, named in the remarks; attested A.5.1 is satisfied
    states = {c: f["target"]["status"]["state"] for c, f in findings.items()}
    assert "A.8.24" not in findings and "A.8.24" in result["remarks"]
    assert states["A.5.1"] == "satisfied" and states["A.8.3"] == "not-satisfied"
    reviewed = {
        c["control-id"]
        for c in result["reviewed-controls"]["control-selections"][0]["include-controls"]
    }
    assert reviewed == set(findings)
    assert "A.7.5" not in findings and "A.7.5" not in result["remarks"]

    # the failing bucket (day 2) is a subject of its observation, defined as inventory item
    items = {i["uuid"]: i for i in result["local-definitions"]["inventory-items"]}
    failing = [o for o in result["observations"] if o["types"] == ["finding"]]
    assert len(failing) == 1
    [subject] = failing[0]["subjects"]
    assert subject["type"] == "inventory-item" and subject["title"] == "arn:aws:s3:::logs"
    assert items[subject["subject-uuid"]]["props"] == [
        {"name": "asset-id", "value": "arn:aws:s3:::logs"}
    ]
    assert all("subjects" not in o for o in result["observations"] if o not in failing)
