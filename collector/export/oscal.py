"""OSCAL 1.2.1 Assessment Results and the minimal Assessment Plan they import.

The results are written incrementally: one ``result`` for the period whose ``observations``
(one per evidence record, its failing resources as ``subjects``) are written element by element
as records stream, then one ``finding`` per control assessed by automated checks (its
``related-observations`` stream from the index), the resources as ``inventory-items``, and the
reviewed controls. Controls no in-scope check evidences (``manual``) or whose checks have never
run (``no_evidence``) get no finding: automated assessment says nothing about them, so they are
left out of the result's reviewed controls and named in its ``remarks``.

``import-ap`` points to ``assessment-plan.oscal.json`` in the package: the controls to review
and one activity per automated check. Its ``import-ssp`` points to a back-matter resource for
the Statement of Applicability, the ISMS's scope document. UUIDs are version 5
(deterministic): re-exporting the same evidence yields the same ids.

The tests validate both documents with compliance-trestle's models and NIST's JSON schemas of
``OSCAL_VERSION``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from json.encoder import encode_basestring as _str  # type: ignore[attr-defined]
from typing import IO, Any

from storage import EvidenceRecord

__all__ = [
    "ANNEXA_NS",
    "NAMESPACE",
    "OSCAL_VERSION",
    "PLAN_PATH",
    "OscalWriter",
    "assessment_plan",
    "observation_uuid",
    "subject_uuid",
]

OSCAL_VERSION = "1.2.1"
NAMESPACE = uuid.UUID("6f1c7a52-5d0e-4b8e-9f43-2a1d3c5e7b90")
ANNEXA_NS = "https://github.com/annexa/annexa/ns/oscal"
PLAN_PATH = "assessment-plan.oscal.json"


def observation_uuid(record_id: int, content_hash: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"evidence:{record_id}:{content_hash}"))


def subject_uuid(resource: str) -> str:
    """The inventory item of a resource (the same in every export)."""
    return str(uuid.uuid5(NAMESPACE, f"resource:{resource}"))


def _time(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


_NS = f'"ns":{_str(ANNEXA_NS)}'


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _selection(controls: Iterable[str], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "control-selections": [{"include-controls": [{"control-id": c} for c in controls]}],
    }


class OscalWriter:
    """Write one Assessment Results document to ``out`` in three calls:
    ``begin`` -> ``observation`` per record -> ``finish`` with the findings."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._first = True
        self._resources: dict[str, str] = {}  # failing resource -> its inventory item uuid

    def begin(
        self, *, title: str, start: datetime, end: datetime, now: datetime, version: str
    ) -> None:
        head = {
            "uuid": str(uuid.uuid5(NAMESPACE, f"ar:{_time(start)}:{_time(end)}:{_time(now)}")),
            "metadata": {
                "title": title,
                "last-modified": _time(now),
                "version": version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": PLAN_PATH},
        }
        result = {
            "uuid": str(uuid.uuid5(NAMESPACE, f"result:{_time(start)}:{_time(end)}")),
            "title": f"Continuous evidence {_time(start)} to {_time(end)}",
            "description": "Automated evidence collected by annexa over the audit period; "
            "each observation is one sealed evidence record in this package.",
            "start": _time(start),
            "end": _time(end),
        }
        self._out.write('{"assessment-results":' + _dump(head)[:-1] + ',"results":[')
        self._out.write(_dump(result)[:-1] + ',"observations":[')

    def observation(
        self,
        record: EvidenceRecord,
        uuid_: str,
        href: str,
        sha256: str,
        max_age: timedelta | None,
    ) -> None:
        """One observation (``uuid_`` is ``observation_uuid`` of the record), spliced from
        encoded strings: the same bytes as ``_dump`` of the observation dict. The record's
        failing resources are its subjects."""
        expires = (
            f',"expires":"{_time(record.collected_at + max_age)}"' if max_age is not None else ""
        )
        kind = "finding" if record.status == "fail" else "control-objective"
        description = f"{record.status}: {record.summary or record.error or ''}".strip()
        link = _str(href)
        subjects = ""
        if record.status == "fail":
            failing = sorted({str(f.get("resource")) for f in record.findings if not f["passed"]})
            refs = []
            for resource in failing:
                item = self._resources.get(resource)
                if item is None:
                    item = self._resources[resource] = subject_uuid(resource)
                refs.append(
                    f'{{"subject-uuid":"{item}","type":"inventory-item","title":{_str(resource)}}}'
                )
            if refs:
                subjects = f',"subjects":[{",".join(refs)}]'
        self._out.write(
            f'{"" if self._first else ","}{{"uuid":"{uuid_}",'
            f'"title":{_str(f"{record.check_id} @ {record.target_key}")},'
            f'"description":{_str(description)},'
            f'"props":[{{"name":"evidence-status",{_NS},"value":{_str(record.status)}}},'
            f'{{"name":"content-hash",{_NS},"value":{_str(record.content_hash)}}}],'
            f'"methods":["AUTOMATED"],"types":["{kind}"]{subjects},'
            f'"collected":"{_time(record.collected_at)}"{expires},'
            f'"relevant-evidence":[{{"href":{link},'
            f'"description":"Sealed evidence record #{record.id}",'
            f'"props":[{{"name":"hash",{_NS},"class":"SHA-256","value":"{sha256}"}}],'
            f'"links":[{{"href":{link},"rel":"evidence","media-type":"application/json"}}]}}]}}'
        )
        self._first = False

    def finish(
        self,
        findings: Iterable[tuple[dict[str, Any], Iterable[str]]],
        *,
        not_assessed: Sequence[str] = (),
    ) -> None:
        """Close the observations and write each (finding, related observation uuids), the
        failing resources as inventory items and the controls assessed."""
        self._out.write('],"findings":[')
        assessed = []
        for n, (finding, related) in enumerate(findings):
            assessed.append(finding["target"]["target-id"])
            self._out.write(("," if n else "") + _dump(finding)[:-1])
            opened = False
            for u in related:
                self._out.write(
                    (',"related-observations":[' if not opened else ",")
                    + _dump({"observation-uuid": u})
                )
                opened = True
            self._out.write("]}" if opened else "}")
        self._out.write("]")
        if self._resources:
            items = [
                {
                    "uuid": item,
                    "description": "A resource with failing findings in the period.",
                    "props": [{"name": "asset-id", "value": resource}],
                }
                for resource, item in sorted(self._resources.items())
            ]
            self._out.write(',"local-definitions":' + _dump({"inventory-items": items}))
        reviewed = _selection(assessed, "Controls assessed by annexa's automated checks.")
        self._out.write(',"reviewed-controls":' + _dump(reviewed))
        if not_assessed:
            remarks = (
                "Not assessed automatically (no in-scope check evidences them, or some of their "
                "checks have not run; their evidence comes from the ISMS's own records): "
                + ", ".join(not_assessed)
            )
            self._out.write(',"remarks":' + _dump(remarks))
        self._out.write("}]}}\n")


def finding(
    control_id: str, title: str, satisfied: bool, description: str, accepted: str | None = None
) -> dict[str, Any]:
    """A finding's fixed part (related observations are streamed after it). ``accepted``: the
    exceptions accepting the control's failures (an accepted risk is not-satisfied, reason
    ``other``, with the exceptions in the status remarks)."""
    status: dict[str, Any] = {"state": "satisfied" if satisfied else "not-satisfied"}
    if accepted:
        status |= {"reason": "other", "remarks": f"risk accepted: {accepted}"}
    return {
        "uuid": str(uuid.uuid5(NAMESPACE, f"finding:{control_id}")),
        "title": f"{control_id} {title}",
        "description": description,
        "target": {"type": "objective-id", "target-id": control_id, "status": status},
    }


def assessment_plan(
    *,
    title: str,
    start: datetime,
    end: datetime,
    now: datetime,
    version: str,
    controls: Sequence[str],
    checks: Iterable[tuple[str, str, Sequence[str]]],
    soa_name: str,
) -> bytes:
    """The plan the results import: ``controls`` to review and one activity per automated
    check (id, title, the controls it evidences)."""
    scope = str(uuid.uuid5(NAMESPACE, f"soa:{soa_name}"))
    activities = [
        {
            "uuid": str(uuid.uuid5(NAMESPACE, f"activity:{check_id}")),
            "title": check_title,
            "description": f"Automated check {check_id}, run on its interval against every "
            "configured target; each run is stored as a sealed evidence record.",
            "props": [{"name": "check-id", "ns": ANNEXA_NS, "value": check_id}],
            "related-controls": _selection(evidenced, "Controls this check evidences."),
        }
        for check_id, check_title, evidenced in checks
        if evidenced
    ]
    plan: dict[str, Any] = {
        "uuid": str(uuid.uuid5(NAMESPACE, f"plan:{_time(start)}:{_time(end)}")),
        "metadata": {
            "title": f"{title}: assessment plan",
            "last-modified": _time(now),
            "version": version,
            "oscal-version": OSCAL_VERSION,
        },
        "import-ssp": {"href": f"#{scope}"},
        "reviewed-controls": _selection(
            controls, "Applicable Annex A controls of the Statement of Applicability."
        ),
        "back-matter": {
            "resources": [
                {
                    "uuid": scope,
                    "title": f"Statement of Applicability ({soa_name})",
                    "description": "The ISMS scope document; the package's soa.csv and "
                    "soa.xlsx carry it with the automated status of each control.",
                    "rlinks": [{"href": "soa.csv", "media-type": "text/csv"}],
                }
            ]
        },
    }
    if activities:
        plan["local-definitions"] = {"activities": activities}
    return (json.dumps({"assessment-plan": plan}, ensure_ascii=False, indent=1) + "\n").encode()
