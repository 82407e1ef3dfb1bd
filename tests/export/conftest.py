"""A small store with evidence, a manual item and an exception, exported once per test."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from collector.app import Workspace, example_soa_path, load_workspace
from collector.export import export_package
from collector.settings import load_settings
from collector.soa import load_soa
from storage import EvidenceStore, NewEvidence

T0 = datetime(2025, 3, 1, tzinfo=UTC)
COLLECTOR = "arn:aws:sts::111111111111:assumed-role/AnnexaAudit/annexa"  # who collected
DAY = timedelta(days=1)
S3 = "aws.s3.public_access_blocked"  # maps to A.8.3 (with other checks)
TRAIL = "aws.cloudtrail.log_file_validation"  # maps to A.8.15 (among others)


def record(run: str, check: str, at: datetime, *, fail: bool = False, region: str = "eu-west-1"):
    findings = [
        {
            "resource": "arn:aws:s3:::logs",
            "passed": not fail,
            "message": "public" if fail else "ok",
        },
        {"resource": "arn:aws:s3:::data", "passed": True, "message": "ok"},
    ]
    return NewEvidence(
        run_id=run,
        check_id=check,
        check_version=1,
        provider="aws",
        account="111111111111",
        region=region,
        collected_at=at,
        status="fail" if fail else "pass",
        summary="1 of 2 failing" if fail else "2 resources",
        findings=findings,
        observations={"buckets": ["logs", "data"], "day": at.day, "note": "é"},
    )


def seed(store: EvidenceStore) -> None:
    """Four days x two checks; S3 fails on day 2; one record before and one after the period."""
    run = store.start_run(started_at=T0 - DAY)
    store.append(record(run, S3, T0 - DAY))  # before the period
    for d in range(4):
        run = store.start_run(started_at=T0 + d * DAY, annexa_version="0.9.0")
        store.append_many(
            [
                record(run, S3, T0 + d * DAY + timedelta(minutes=1), fail=d == 2),
                record(run, TRAIL, T0 + d * DAY + timedelta(minutes=2)),
            ]
        )
        store.finish_run(
            run,
            finished_at=T0 + d * DAY + timedelta(minutes=5),
            outcome="complete",
            collected_by={"aws:111111111111": COLLECTOR, "github:acme": "app 42"},
        )
    store.append(record(run, S3, T0 + 10 * DAY))  # after the period
    store.add_manual(
        ["A.5.1"],
        b"%PDF- policy",
        file_name="policy v2.pdf",
        media_type="application/pdf",
        note="<b>board approved</b>",
        uploaded_at=T0 - DAY,
        valid_until=T0 + 300 * DAY,
        uploaded_by="ciso",
    )
    store.add_exception(
        check_id=S3,
        resource_pattern="arn:aws:s3:::logs",
        target_pattern="*",
        reason="log bucket is public by design",
        approved_by="cto",
        created_at=T0 + 2 * DAY,
        expires_at=T0 + 2 * DAY + timedelta(hours=12),
        created_by="ciso",
    )


@cache
def shared_workspace() -> Workspace:
    """The default workspace (built-in checks and mapping), loaded once per process."""
    return load_workspace(load_settings(None))


def export_period(
    store: EvidenceStore, out: Path, *, soa_path: Path | None = None, **kw: Any
) -> zipfile.ZipFile:
    """Export the seeded period (four days from T0, generated a day later) with the example
    SoA or ``soa_path``; ``kw`` goes to ``export_package``. Returns the package, open."""
    workspace = shared_workspace()
    soa = load_soa(soa_path or example_soa_path(), workspace.catalogue)
    export_package(
        workspace, store, soa, start=T0, end=T0 + 4 * DAY, out=out, now=T0 + 5 * DAY, **kw
    )
    return zipfile.ZipFile(out)


@pytest.fixture
def seeded(store: EvidenceStore) -> EvidenceStore:
    seed(store)
    return store


@pytest.fixture
def key_files(tmp_path: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "sign.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = tmp_path / "sign.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def rewrite(package: Path, changes: dict[str, bytes | None]) -> None:
    """Copy ``package`` replacing (bytes) or dropping (None) the named entries."""
    copy = package.with_suffix(".tmp")
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in changes:
                if changes[info.filename] is not None:
                    dst.writestr(info.filename, changes[info.filename])  # type: ignore[arg-type]
            else:
                dst.writestr(info, src.read(info))
        for name, data in changes.items():
            if name not in src.namelist() and data is not None:
                dst.writestr(name, data)
    copy.replace(package)
