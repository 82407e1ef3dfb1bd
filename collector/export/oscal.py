"""OSCAL 1.1 Assessment Results, written incrementally: one ``result`` for the period whose
``observations`` (one per evidence record) are written element by element as records stream,
then one ``finding`` per control whose ``related-observations`` stream from the index.

``import-ap`` is required by the model, but continuous collection has no assessment plan: its
href points to a back-matter resource that says so. UUIDs are version 5 (deterministic): an
observation's from the record id and seal, so re-exporting the same evidence yields the same ids.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from json.encoder import encode_basestring as _str  # type: ignore[attr-defined]
from typing import IO, Any

from storage import EvidenceRecord

__all__ = ["NAMESPACE", "OSCAL_VERSION", "OscalWriter", "observation_uuid"]

OSCAL_VERSION = "1.1.2"
NAMESPACE = uuid.UUID("6f1c7a52-5d0e-4b8e-9f43-2a1d3c5e7b90")
ANNEXA_NS = "https://github.com/annexa/annexa/ns/oscal"


def observation_uuid(record_id: int, content_hash: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"evidence:{record_id}:{content_hash}"))


def _time(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


_NS = f'"ns":{_str(ANNEXA_NS)}'


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class OscalWriter:
    """Write one Assessment Results document to ``out`` in three calls:
    ``begin`` -> ``observation`` per record -> ``finish`` with the findings."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._first = True

    def begin(
        self,
        *,
        title: str,
        start: datetime,
        end: datetime,
        now: datetime,
        version: str,
        controls: Iterable[str],
    ) -> None:
        plan = str(uuid.uuid5(NAMESPACE, f"plan:{_time(start)}:{_time(end)}"))
        head = {
            "uuid": str(uuid.uuid5(NAMESPACE, f"ar:{_time(start)}:{_time(end)}:{_time(now)}")),
            "metadata": {
                "title": title,
                "last-modified": _time(now),
                "version": version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"#{plan}"},
        }
        result = {
            "uuid": str(uuid.uuid5(NAMESPACE, f"result:{_time(start)}:{_time(end)}")),
            "title": f"Continuous evidence {_time(start)} to {_time(end)}",
            "description": "Automated evidence collected by annexa over the audit period; "
            "each observation is one sealed evidence record in this package.",
            "start": _time(start),
            "end": _time(end),
            "reviewed-controls": {
                "control-selections": [{"include-controls": [{"control-id": c} for c in controls]}]
            },
        }
        self._back_matter = {
            "resources": [
                {
                    "uuid": plan,
                    "title": "No assessment plan",
                    "description": "annexa collects evidence continuously; there is no OSCAL "
                    "assessment plan. This placeholder satisfies import-ap.",
                }
            ]
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
        encoded strings: the same bytes as ``_dump`` of the observation dict."""
        expires = (
            f',"expires":"{_time(record.collected_at + max_age)}"' if max_age is not None else ""
        )
        kind = "finding" if record.status == "fail" else "control-objective"
        description = f"{record.status}: {record.summary or record.error or ''}".strip()
        link = _str(href)
        self._out.write(
            f'{"" if self._first else ","}{{"uuid":"{uuid_}",'
            f'"title":{_str(f"{record.check_id} @ {record.target_key}")},'
            f'"description":{_str(description)},'
            f'"props":[{{"name":"evidence-status",{_NS},"value":{_str(record.status)}}},'
            f'{{"name":"content-hash",{_NS},"value":{_str(record.content_hash)}}}],'
            f'"methods":["AUTOMATED"],"types":["{kind}"],'
            f'"collected":"{_time(record.collected_at)}"{expires},'
            f'"relevant-evidence":[{{"href":{link},'
            f'"description":"Sealed evidence record #{record.id}",'
            f'"props":[{{"name":"hash",{_NS},"class":"SHA-256","value":"{sha256}"}}],'
            f'"links":[{{"href":{link},"rel":"evidence","media-type":"application/json"}}]}}]}}'
        )
        self._first = False

    def finish(self, findings: Iterable[tuple[dict[str, Any], Iterable[str]]]) -> None:
        """Close the observations and write each (finding, related observation uuids)."""
        self._out.write('],"findings":[')
        for n, (finding, related) in enumerate(findings):
            self._out.write(("," if n else "") + _dump(finding)[:-1])
            opened = False
            for u in related:
                self._out.write(
                    (',"related-observations":[' if not opened else ",")
                    + _dump({"observation-uuid": u})
                )
                opened = True
            self._out.write("]}" if opened else "}")
        self._out.write(']}],"back-matter":' + _dump(self._back_matter) + "}}\n")


def finding(control_id: str, title: str, satisfied: bool, description: str) -> dict[str, Any]:
    """A finding's fixed part (related observations are streamed after it)."""
    return {
        "uuid": str(uuid.uuid5(NAMESPACE, f"finding:{control_id}")),
        "title": f"{control_id} {title}",
        "description": description,
        "target": {
            "type": "objective-id",
            "target-id": control_id,
            "status": {"state": "satisfied" if satisfied else "not-satisfied"},
        },
    }
