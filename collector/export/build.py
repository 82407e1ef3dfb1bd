"""``annexa export``: one pass over the period's evidence writes a self-contained, verifiable
audit package (see ``README.txt`` in ``templates/`` for its layout).

Memory stays bounded: records stream from the store in batches and each is written to the zip
at once; the OSCAL observations and OCSF events go to temporary files as they come (one zip
entry can be open at a time) and are copied in afterwards; everything needed later (paths,
hashes, per-control record lists) goes to a temporary SQLite index; per (check, target)
aggregates and the compressed continuity timeline are the only in-memory state.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from collector.app import Workspace
from collector.audit import clip_period, exception_rows, period_continuity, statuses_at
from collector.continuity import Continuity
from collector.errors import UserError
from collector.exceptions import accepting
from collector.export.evidence import RECORDS_COLUMNS, record_json, record_path
from collector.export.html import HTML_FAILING_SHOWN, render_index, state_summary
from collector.export.inputs import (
    BUILD_INPUTS,
    FORMAT_VERSION,
    OPENING_RECORDS,
    BuildInputs,
    encode_inputs,
)
from collector.export.ocsf import OcsfEvents
from collector.export.oscal import (
    PLAN_PATH,
    OscalWriter,
    assessment_plan,
    finding,
    observation_uuid,
)
from collector.export.package import PackageWriter, fingerprint, load_signing_key
from collector.export.sheets import SOA_COLUMNS, csv_bytes, write_csv, write_xlsx
from collector.mapping import Mapping
from collector.measures import MEASURE_COLUMNS, ControlMeasures, measure_fields, measure_timeline
from collector.report import duration, iso
from collector.soa import Soa
from collector.status import GOOD_STATES, ControlState, ControlStatus, Scope, max_age_for
from collector.version import annexa_version
from storage import EvidenceRecord, EvidenceStore, ManualEvidence, RiskException, RunRecord

__all__ = ["ExportResult", "export_package"]

_BATCH = 5_000
# automated assessment says nothing about these: no OSCAL finding, named in the result's remarks
_NOT_ASSESSED = frozenset({ControlState.MANUAL, ControlState.NO_EVIDENCE})
Progress = Callable[[int, int | None], None]  # (records written, total or None)


@dataclass(frozen=True)
class ExportResult:
    """What ``export_package`` wrote."""

    path: Path
    records: int
    files: int
    controls: int
    signed_by: str | None  # the public key fingerprint when signed
    note: str | None = None  # set when the period was clipped at now


@dataclass(frozen=True)
class Failure:
    """A failing finding at the end of the period."""

    check: str
    target: str
    resource: str
    exception: int | None  # the exception accepting it then, if any


@dataclass
class _Pair:
    """Aggregate of one (check, target) over the period."""

    records: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    last_path: str = ""
    last_status: str = ""


def export_package(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa,
    *,
    start: datetime,
    end: datetime,
    out: Path,
    now: datetime,
    controls: Sequence[str] | None = None,
    scope: Scope | None = None,
    sign_key: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    compresslevel: int = 1,
    checkpoints: Sequence[tuple[str, bytes]] = (),
    version: str | None = None,
) -> ExportResult:
    """Write the audit package for ``[start, end)`` to ``out`` (atomically); UserError on bad
    input, before anything is written. The period stops at ``now`` (``clip_period``); status
    is judged over ``scope`` (default: the config's; a removed target counts for the time it
    existed, and its records stay in the package). ``compresslevel``: deflate level (1:
    fastest; 6 makes the package about 8 % smaller and the export about 10 % slower, see
    BENCHMARKS.md). ``checkpoints``: (name, document) of the anchored checkpoints covering the
    period, copied to ``checkpoints/``. ``version``: the annexa version the package states
    (default: this one; ``verify --package`` rebuilds with the package's own)."""
    start, end, note = clip_period(start, end, now)
    scope = scope or workspace.with_history(workspace.scope(store=store), store)
    selected = _select(workspace, controls)
    key = load_signing_key(sign_key) if sign_key is not None else None
    _check_output(out, force)
    try:
        with tempfile.TemporaryDirectory(prefix="annexa-export-") as tmp:
            work = Path(tmp)
            with PackageWriter(out, work, created=now, compresslevel=compresslevel) as writer:
                builder = _Builder(
                    workspace, store, soa, selected, start, end, now, writer, work, scope
                )
                builder.version = version or builder.version
                records = builder.write(progress)
                for name, document in checkpoints:
                    writer.add(f"checkpoints/{name}", document)
                writer.finish(key)
    except FileExistsError as exc:
        raise UserError(
            f"--out {out}: {exc.filename} exists (another export running? remove it if not)"
        ) from None
    except OSError as exc:  # read-only file system, disk full, permission denied
        where = exc.filename or out
        raise UserError(f"--out {out}: cannot write {where}: {exc.strerror or exc}") from None
    return ExportResult(
        out,
        records,
        writer.files + (3 if key else 1),
        len(selected),
        fingerprint(key.public_key()) if key else None,
        note,
    )


def _select(workspace: Workspace, controls: Sequence[str] | None) -> list[str]:
    catalogue = workspace.catalogue
    if not controls:
        return [c.id for c in catalogue.controls]
    unknown = [c for c in controls if c not in catalogue]
    if unknown:
        raise UserError(f"--controls: unknown control id(s) {', '.join(unknown)} (e.g. A.8.24)")
    wanted = set(controls)
    return [c.id for c in catalogue.controls if c.id in wanted]


def _check_output(out: Path, force: bool) -> None:
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: directory {out.parent} does not exist")
    if out.is_dir():
        raise UserError(f"--out {out}: is a directory")
    if out.exists() and not out.is_file():  # a device, FIFO or socket is never replaced
        raise UserError(f"--out {out}: not a regular file")
    if out.exists() and not force:
        raise UserError(f"--out {out}: file exists (use --force to replace it)")


class _Builder:
    # verify --package runs this build again on a package alone: whatever it reads from the
    # store or the workspace must travel in inputs/ (export/inputs.py) and be served by
    # rederive._Source; tests/export/test_rederive.py fails when something is missing
    def __init__(
        self,
        workspace: Workspace,
        store: EvidenceStore,
        soa: Soa,
        selected: list[str],
        start: datetime,
        end: datetime,
        now: datetime,
        writer: PackageWriter,
        work: Path,
        scope: Scope,
    ) -> None:
        self.workspace, self.store, self.soa, self.scope = workspace, store, soa, scope
        self.selected, self.start, self.end, self.now = selected, start, end, now
        self.writer, self.work = writer, work
        mapping = workspace.mapping
        self.controls_of = {
            check: [c for c in mapping.controls_for(check) if c in set(selected)]
            for control in selected
            for check in mapping.checks_for(control)
        }
        self.checks = sorted(self.controls_of)
        self.intervals = {c.id: c.interval for c in workspace.registry.checks.values()}
        self.max_ages = {check: self._max_age(check) for check in self.checks}
        self.exceptions = store.exceptions()
        self.manual = store.manual_items()
        self.version = annexa_version()
        self._failing: dict[str, list[Failure]] | None = None
        self.index = sqlite3.connect(work / "records.sqlite", isolation_level=None)
        self.index.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE records (id INTEGER PRIMARY KEY, collected_at TEXT, check_id TEXT,"
            " target TEXT, status TEXT, path TEXT, sha256 TEXT, content_hash TEXT,"
            " previous_hash TEXT, observation TEXT);"
        )

    def _max_age(self, check: str) -> timedelta | None:
        ages = []
        for control in self.controls_of[check]:
            entry = self.soa.entry(control)
            if entry is None or entry.applicable:
                age = max_age_for(check, entry, self.intervals, 2.0)
                if age is not None:
                    ages.append(age)
        return min(ages, default=None)

    # -- the one pass over the records ----------------------------------------------------

    def write(self, progress: Progress | None) -> int:
        pairs: dict[tuple[str, str], _Pair] = {}
        runs: set[str] = set()
        oscal_path, ocsf_path = self.work / "oscal.json", self.work / "ocsf.jsonl"
        specs = self.workspace.registry.checks
        events = OcsfEvents(product_version=self.version, exceptions=self.exceptions)
        count = 0
        with oscal_path.open("w", encoding="utf-8") as oscal_file, ocsf_path.open("wb") as ocsf:
            oscal = OscalWriter(oscal_file)
            oscal.begin(
                title=f"annexa audit evidence {iso(self.start)} to {iso(self.end)}",
                start=self.start,
                end=self.end,
                now=self.now,
                version=self.version,
            )
            rows: list[tuple[Any, ...]] = []
            total = None
            if progress is not None:
                total = self.store.count_between(self.start, self.end, check_ids=self.checks)
                progress(0, total)
            for record in self.store.records_between(
                self.start, self.end, check_ids=self.checks, batch=2_000
            ):
                path = record_path(record)
                sha256 = self.writer.add(path, record_json(record))
                observation = observation_uuid(record.id, record.content_hash)
                rows.append(_index_row(record, path, sha256, observation))
                if len(rows) >= _BATCH:
                    self._flush(rows)
                    if progress is not None:
                        progress(count, total)
                oscal.observation(
                    record, observation, path, sha256, self.max_ages.get(record.check_id)
                )
                spec = specs.get(record.check_id)
                ocsf.write(
                    events.lines(
                        record,
                        self.controls_of.get(record.check_id, ()),
                        title=spec.title if spec else record.check_id,
                        severity=spec.severity if spec else "medium",
                        evidence_href=path,
                        remediation=spec.remediation if spec else "",
                    )
                )
                _aggregate(pairs, record, path)
                runs.add(record.run_id)
                count += 1
            self._flush(rows)
            self.index.execute("CREATE INDEX by_check ON records (check_id, collected_at, id)")
            statuses = {
                s.control.id: s
                for s in statuses_at(self.workspace, self.store, self.soa, self.end, self.scope)
            }
            not_assessed = [c for c in self.selected if statuses[c].state in _NOT_ASSESSED]
            oscal.finish(self._findings(statuses), not_assessed=not_assessed)
        if progress is not None:
            progress(count, count)
        self.writer.copy("assessment-results.oscal.json", oscal_path)
        self.writer.add(PLAN_PATH, self._plan(statuses))
        self.writer.copy("findings.ocsf.jsonl", ocsf_path)
        found = self._continuity()
        self._write_tables(statuses, found, runs)
        self._write_inputs(runs | self._write_opening())
        self._write_index_files()
        render_index(self.writer, self._html_context(statuses, found, pairs, count))
        self.writer.add("README.txt", _readme())
        self.writer.add("manifest.json", self._manifest(count))
        self.index.close()
        return count

    def _flush(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.index.execute("BEGIN")
            self.index.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            self.index.execute("COMMIT")
            rows.clear()

    def _control_rows(self, control: str) -> Iterator[tuple[Any, ...]]:
        checks = self.workspace.mapping.checks_for(control)
        marks = ",".join("?" * len(checks))
        yield from self.index.execute(
            f"SELECT id, collected_at, check_id, target, status, path, sha256, observation "
            f"FROM records WHERE check_id IN ({marks}) ORDER BY collected_at, id",
            checks,
        )

    def _findings(
        self, statuses: dict[str, ControlStatus]
    ) -> Iterator[tuple[dict[str, Any], Iterator[str]]]:
        for control in self.selected:
            status = statuses[control]
            if status.state is ControlState.NOT_APPLICABLE or status.state in _NOT_ASSESSED:
                continue
            related = (row[7] for row in self._control_rows(control))
            description = f"{status.state.value} at {iso(self.end)}" + "".join(
                f"; {r.state.value}: {r.message}" for r in status.reasons[:5]
            )
            satisfied = status.state in GOOD_STATES
            accepted = "; ".join(_accepted(e) for e in status.exceptions) or None
            yield finding(control, status.control.title, satisfied, description, accepted), related

    def _plan(self, statuses: dict[str, ControlStatus]) -> bytes:
        specs = self.workspace.registry.checks
        return assessment_plan(
            title=f"annexa audit evidence {iso(self.start)} to {iso(self.end)}",
            start=self.start,
            end=self.end,
            now=self.now,
            version=self.version,
            controls=[
                c for c in self.selected if statuses[c].state is not ControlState.NOT_APPLICABLE
            ],
            checks=(
                (c, specs[c].title if c in specs else c, self.controls_of[c]) for c in self.checks
            ),
            soa_name=self.soa.path.name,
        )

    # -- continuity -----------------------------------------------------------------------

    def _continuity(self) -> dict[str, Continuity]:
        found = period_continuity(
            self.workspace,
            self.store,
            self.soa,
            self.start,
            self.end,
            manual=self.manual,
            exceptions=self.exceptions,
            controls=self.selected,
            scope=self.scope,
        )
        wanted = set(self.selected)
        return {c.control.id: c for c in found if c.control.id in wanted}

    # -- tables ---------------------------------------------------------------------------

    def _failures(self) -> dict[str, list[Failure]]:
        """Check -> its failing findings at the end of the period on the targets in scope,
        each with the exception accepting it (if any); computed once."""
        if self._failing is None:
            self._failing = {}
            for s in self.store.latest_at(self.end, self.checks):
                counted = self.scope.counts(s.check_id, s.target_key, self.end)
                if counted and s.status == "fail" and s.failing_resources:
                    accepted = accepting(
                        self.exceptions, s.check_id, s.target_key, s.failing_resources, self.end
                    )
                    self._failing.setdefault(s.check_id, []).extend(
                        Failure(s.check_id, s.target_key, r, getattr(accepted.get(r), "id", None))
                        for r in s.failing_resources
                    )
        return self._failing

    def control_failures(self, control: str) -> list[Failure]:
        found = self._failures()
        return [f for c in self.workspace.mapping.checks_for(control) for f in found.get(c, ())]

    def _open_findings(self) -> dict[str, int]:
        """Control -> failing findings at the end of the period not accepted by an exception."""
        return {
            control: sum(f.exception is None for f in self.control_failures(control))
            for control in self.selected
        }

    def soa_rows(
        self, statuses: dict[str, ControlStatus], found: dict[str, Continuity]
    ) -> list[dict[str, Any]]:
        open_findings = self._open_findings()
        rows = []
        for control in self.selected:
            status, entry = statuses[control], self.soa.entry(control)
            share = found[control].share
            rows.append(
                {
                    "control": control,
                    "title": status.control.title,
                    "theme": status.control.theme,
                    "applicable": entry.applicable if entry else None,
                    "justification": entry.justification if entry else "",
                    "implementation_status": entry.implementation_status if entry else "",
                    "owner": entry.owner if entry else "",
                    "max_evidence_age": duration(entry.max_evidence_age)
                    if entry and entry.max_evidence_age
                    else "",
                    "automated_status": status.state.value,
                    "at_risk": status.at_risk,
                    "last_evidence_at": status.last_evidence_at,
                    "continuity_percent": None if share is None else round(share * 100, 2),
                    "open_findings": open_findings[control],
                    "evidence": "; ".join(self._evidence_refs(control)),
                    "accepted_risks": "; ".join(_accepted(e) for e in status.exceptions),
                }
            )
        return rows

    def _measure_rows(self, found: dict[str, Continuity]) -> list[dict[str, Any]]:
        """Clause 9.1 measures per control over the package's period (up to now), from the
        same continuity timelines as the SoA sheet (``annexa report`` has the trends)."""
        end = min(self.end, self.now)
        rows = []
        for control in self.selected:
            cont = found[control]
            measured = (
                measure_timeline(cont.timeline, self.start, end)
                if cont.share is not None and end > self.start
                else ControlMeasures(None)
            )
            rows.append({"control": control, **measure_fields(measured)})
        return rows

    def _evidence_refs(self, control: str) -> list[str]:
        """Where the package holds the control's evidence: its record index, manual files."""
        refs = (
            [f"controls/{control}/evidence.csv"]
            if self.workspace.mapping.checks_for(control)
            else []
        )
        return refs + [m["path"] for m in self.manual_in_force if m["control"] == control]

    def _write_tables(
        self, statuses: dict[str, ControlStatus], found: dict[str, Continuity], runs: set[str]
    ) -> None:
        self.manual_in_force = self._write_manual()
        rows = self.soa_rows(statuses, found)
        self.soa_table = rows
        self.writer.add("soa.csv", csv_bytes(SOA_COLUMNS, rows))
        write_xlsx(
            self.work / "soa.xlsx",
            "SoA",
            SOA_COLUMNS,
            rows,
            headers={"last_evidence_at": "last_evidence_at (UTC)"},
            more=[("Measures", ("control", *MEASURE_COLUMNS), self._measure_rows(found))],
        )
        self.writer.copy("soa.xlsx", self.work / "soa.xlsx")
        run_rows = [r for r in (self.store.get_run(i) for i in sorted(runs)) if r is not None]
        run_rows.sort(key=lambda r: (r.started_at, r.id))
        self.writer.add("runs.csv", csv_bytes(RUN_COLUMNS, (run_row(r) for r in run_rows)))
        self.exceptions_in_period = [e for e in self.exceptions if self._exception_applies(e)]
        self.writer.add(
            "exceptions.csv",
            csv_bytes(_EXCEPTION_COLUMNS, exception_rows(self.exceptions_in_period, self.end)),
        )

    def _write_manual(self) -> list[dict[str, Any]]:
        wanted = set(self.selected)
        items = [
            i
            for i in self.manual
            if i.control_id in wanted
            and i.uploaded_at < self.end
            and i.valid_from < self.end
            and i.valid_until >= self.start
        ]
        written: set[str] = set()
        rows = []
        for item in items:
            path = manual_path(item)
            if path not in written:
                content = self.store.blob(item.sha256)
                if content is None:
                    raise UserError(f"manual evidence #{item.id}: file {item.sha256} is missing")
                self.writer.add(path, content)
                written.add(path)
            rows.append(_manual_row(item, path))
        self.writer.add("manual.csv", csv_bytes(_MANUAL_COLUMNS, rows))
        return rows

    def _exception_applies(self, e: RiskException) -> bool:
        until = min(e.expires_at, e.revoked_at or e.expires_at)
        return e.check_id in self.controls_of and e.created_at < self.end and until > self.start

    def _write_index_files(self) -> None:
        """Per-control record lists and ``evidence/records.csv`` (the chain, by id)."""
        columns = ("record_id", "collected_at", "check", "target", "status", "path", "sha256")
        for control in self.selected:
            if not self.workspace.mapping.checks_for(control):
                continue
            with self.writer.open(f"controls/{control}/evidence.csv") as f:
                write_csv(f, columns, (row[:7] for row in self._control_rows(control)))
            failures = self.control_failures(control)
            if failures:
                with self.writer.open(failing_path(control)) as f:
                    write_csv(f, _FAILING_COLUMNS, (astuple(x) for x in failures))
        with self.writer.open("evidence/records.csv") as f:
            write_csv(f, RECORDS_COLUMNS, self._chain_rows())

    def _chain_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every record by id, with the id of the record it chains to when that is the
        previous one in the package."""
        previous: tuple[Any, ...] | None = None
        for row in self.index.execute(
            "SELECT id, collected_at, check_id, target, status, path, sha256, content_hash,"
            " previous_hash FROM records ORDER BY id"
        ):
            linked = previous is not None and row[8] == previous[7]
            yield (*row, previous[0] if linked else "")  # type: ignore[index]
            previous = row

    # -- what verify rebuilds the package from ---------------------------------------------

    def _write_opening(self) -> set[str]:
        """Write the records outside the period that status and continuity start from (per
        (check, target) the newest and the newest conclusive one at the start and at the end);
        return their runs."""
        ids: set[int] = set()
        for at in (self.start, self.end):
            for s in self.store.latest_at(at, self.checks):
                ids.add(s.evidence_id)
                if s.status == "error" and s.last_conclusive_at is not None:
                    conclusive = self.store.newest_conclusive_id(s.check_id, s.target_key, at)
                    ids.update([conclusive] if conclusive is not None else [])
        runs = set()
        for record_id in sorted(ids):
            record = self.store.record_by_id(record_id)
            if record is not None and not self.start <= record.collected_at < self.end:
                self.writer.add(f"{OPENING_RECORDS}{record.id}.json", record_json(record))
                runs.add(record.run_id)
        return runs

    def _write_inputs(self, runs: set[str]) -> None:
        """``inputs/build.json``: what the build read besides the records, narrowed to what can
        change the selected controls' figures."""
        selected, checks = set(self.selected), set(self.checks)
        specs = self.workspace.registry.checks
        found = {i: self.store.get_run(i) for i in sorted(runs)}
        mapped = selected | {
            c for check in self.checks for c in self.workspace.mapping.controls_for(check)
        }
        inputs = BuildInputs(
            annexa_version=self.version,
            generated_at=self.now,
            start=self.start,
            end=self.end,
            controls=tuple(self.selected),
            scope=Scope(
                self.scope.checks & checks,
                {c: p for c, p in self.scope.providers.items() if c in checks},
                self.scope.targets,
                self.scope.accounts,
                self.scope.regions,
                {k: t for k, t in self.scope.retired.items() if k[0] in checks},
            ),
            checks={c: specs[c] for c in self.checks if c in specs},
            catalogue=self.workspace.catalogue,
            mapping=Mapping({c: self.workspace.mapping.controls_for(c) for c in self.checks}),
            soa=self.soa,
            exceptions=tuple(
                e for e in self.exceptions if e.check_id in checks and e.created_at <= self.end
            ),
            manual=tuple(
                m for m in self.manual if m.control_id in selected and m.uploaded_at <= self.end
            ),
            runs={i: r for i, r in found.items() if r is not None},
            transitions=tuple(t for t in self.store.transitions() if t.control_id in mapped),
        )
        self.writer.add(BUILD_INPUTS, encode_inputs(inputs))

    # -- html and manifest ----------------------------------------------------------------

    def _html_context(
        self,
        statuses: dict[str, ControlStatus],
        found: dict[str, Continuity],
        pairs: dict[tuple[str, str], _Pair],
        count: int,
    ) -> dict[str, Any]:
        by_check: dict[str, list[tuple[str, _Pair]]] = {}
        for (check, target), pair in sorted(pairs.items()):
            by_check.setdefault(check, []).append((target, pair))
        controls = []
        soa_rows = {r["control"]: r for r in self.soa_table}
        for control in self.selected:
            status, cont = statuses[control], found[control]
            checks = self.workspace.mapping.checks_for(control)
            failures = self.control_failures(control)
            controls.append(
                {
                    "id": control,
                    "soa": soa_rows[control],
                    "status": status,
                    "continuity": cont,
                    "timeline": _timeline(cont, self.start, self.end),
                    "evidence": [
                        {"check": c, "target": t, "pair": p}
                        for c in checks
                        for t, p in by_check.get(c, ())
                    ],
                    "checks_without_evidence": [c for c in checks if c not in by_check],
                    "manual": [m for m in self.manual_in_force if m["control"] == control],
                    "exceptions": exception_rows(
                        [e for e in self.exceptions_in_period if e.check_id in checks], self.end
                    ),
                    "has_index": bool(checks),
                    "failing": failures[:HTML_FAILING_SHOWN],
                    "failing_total": len(failures),
                    "failing_href": failing_path(control),
                }
            )
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "generated": iso(self.now),
            "version": self.version,
            "soa_name": self.soa.path.name,
            "records": count,
            "controls": controls,
            "summary": state_summary(statuses[c] for c in self.selected),
            "iso": iso,
        }

    def _manifest(self, count: int) -> bytes:
        manifest = {
            "format": "annexa-audit-package",
            "format_version": FORMAT_VERSION,
            "annexa_version": self.version,
            "created_at": iso(self.now),
            "period": {"from": iso(self.start), "to": iso(self.end)},
            "controls": self.selected,
            "records": count,
            "soa": self.soa.path.name,
        }
        return json.dumps(manifest, indent=2).encode() + b"\n"


# -- helpers -------------------------------------------------------------------------------

_MANUAL_COLUMNS = (
    "id",
    "control",
    "file",
    "path",
    "sha256",
    "size",
    "media_type",
    "uploaded_at",
    "uploaded_by",
    "valid_from",
    "valid_until",
    "note",
)
_EXCEPTION_COLUMNS = (
    "id",
    "check",
    "resource",
    "target",
    "reason",
    "approved_by",
    "created_at",
    "expires_at",
    "state",
    "revoked_at",
    "revoke_reason",
)


_FAILING_COLUMNS = ("check", "target", "resource", "accepted_by_exception")
RUN_COLUMNS = (
    "run",
    "started_at",
    "finished_at",
    "outcome",
    "trigger",
    "host",
    "annexa_version",
    "collected_by",
    "records",
)


def run_row(run: RunRecord) -> dict[str, Any]:
    """One ``runs.csv`` row: ``collected_by`` lists ``target=identity`` pairs as the run's
    ledger entry seals them (the identity each target was read with; ``(not reached)``)."""
    return {
        "run": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "outcome": run.outcome,
        "trigger": run.trigger,
        "host": run.host,
        "annexa_version": run.annexa_version or "",
        "collected_by": "; ".join(
            f"{k}={v or '(not reached)'}" for k, v in sorted((run.collected_by or {}).items())
        ),
        "records": run.records,
    }


def failing_path(control: str) -> str:
    return f"controls/{control}/failing.csv"


def _accepted(e: RiskException) -> str:
    """One accepted risk as the SoA sheet and OSCAL state it: reason, approver, expiry."""
    return f"exception #{e.id} approved by {e.approved_by}, expires {iso(e.expires_at)}: {e.reason}"


def manual_path(item: ManualEvidence) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in item.file_name)
    return f"manual/{item.sha256}-{safe or 'file'}"


def _manual_row(item: ManualEvidence, path: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "control": item.control_id,
        "file": item.file_name,
        "path": path,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "uploaded_at": iso(item.uploaded_at),
        "uploaded_by": item.uploaded_by,
        "valid_from": iso(item.valid_from),
        "valid_until": iso(item.valid_until),
        "note": item.note,
    }


def _index_row(record: EvidenceRecord, path: str, sha256: str, observation: str) -> tuple[Any, ...]:
    return (
        record.id,
        iso(record.collected_at),
        record.check_id,
        record.target_key,
        record.status,
        path,
        sha256,
        record.content_hash,
        record.previous_hash,
        observation,
    )


def _aggregate(pairs: dict[tuple[str, str], _Pair], record: EvidenceRecord, path: str) -> None:
    pair = pairs.setdefault((record.check_id, record.target_key), _Pair())
    pair.records += 1
    pair.statuses[record.status] = pair.statuses.get(record.status, 0) + 1
    pair.first = pair.first or record.collected_at
    pair.last, pair.last_path, pair.last_status = record.collected_at, path, record.status


def _timeline(cont: Continuity, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The period as consecutive spans: passing between the gaps, each gap with its cause."""
    if cont.share is None:
        return [{"start": iso(start), "end": iso(end), "state": "not_applicable"}]
    spans, cursor = [], start
    for gap in cont.gaps:
        if gap.start > cursor:
            spans.append({"start": iso(cursor), "end": iso(gap.start), "state": "passing"})
        spans.append({"start": iso(gap.start), "end": iso(gap.end), "state": gap.cause})
        cursor = gap.end
    if cursor < end:
        spans.append({"start": iso(cursor), "end": iso(end), "state": "passing"})
    return spans


def _readme() -> bytes:
    from importlib.resources import files

    return (files("collector.export") / "templates" / "README.txt").read_bytes()
