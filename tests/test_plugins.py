"""Third-party check packs: a real entry point in the ``annexa.checks`` group is discovered,
validated and run like a built-in check."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from collector.app import load_workspace, open_store, run_audit
from collector.aws.accounts import resolve_accounts
from collector.errors import UserError
from collector.registry import load_registry
from collector.settings import load_settings

PACK = """
from checks import Finding, check
from checks.aws.models import S3Buckets


@check(id="acme.s3.bucket_prefix", title="Buckets use the acme- prefix", severity="low",
       interval="1d", provider="aws")
def bucket_prefix(buckets: S3Buckets):
    for bucket in buckets.buckets:
        ok = bucket.name.startswith("acme-")
        yield Finding(resource=bucket.arn, passed=ok, message="prefixed" if ok else "no prefix")
"""


def install_pack(site: Path, body: str, name: str = "acme_annexa_pack") -> None:
    """Install a distribution the way pip does: the module plus a dist-info with entry points."""
    (site / f"{name}.py").write_text(body)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[annexa.checks]\nacme = {name}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [m for m in sys.modules if m.startswith("acme_annexa_pack")]:
        del sys.modules[name]


def test_entry_point_pack_is_discovered_mapped_and_run(site, tmp_path, monkeypatch):
    install_pack(site, PACK)
    registry = load_registry()
    assert "acme.s3.bucket_prefix" in registry.checks
    assert registry.origins["acme.s3.bucket_prefix"].startswith("entry point 'acme'")

    mapping = tmp_path / "acme-mapping.yaml"
    mapping.write_text(
        "acme.s3.bucket_prefix:\n"
        "  A.5.9: {strength: supporting, why: bucket names carry the owning team}\n"
    )
    settings = load_settings(data_dir=tmp_path, mappings=[mapping])
    workspace = load_workspace(settings)
    assert "acme.s3.bucket_prefix" in workspace.mapping.checks_for("A.5.9")

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        for name in ("acme-logs", "random-bucket"):
            s3.create_bucket(Bucket=name)
        store = open_store(settings)
        soa, _ = workspace.soa(None)
        audit = run_audit(
            workspace,
            store,
            soa,
            workspace.checks(ids=["acme.s3.bucket_prefix"]),
            accounts=resolve_accounts(settings.aws, session),
        )
        store.close()
    (record,) = audit.result.records
    assert {(f["resource"], f["passed"]) for f in record.findings} == {
        ("arn:aws:s3:::acme-logs", True),
        ("arn:aws:s3:::random-bucket", False),
    }
    status = {s.control.id: s for s in audit.statuses}["A.5.9"]
    assert status.state.value == "failing"


def test_pack_reusing_a_builtin_id_is_rejected(site):
    install_pack(site, PACK.replace("acme.s3.bucket_prefix", "aws.s3.default_encryption"))
    with pytest.raises(UserError, match=r"duplicate check id 'aws.s3.default_encryption'"):
        load_registry()


def test_broken_pack_names_its_entry_point(site):
    install_pack(site, "raise RuntimeError('pack bug')\n")
    with pytest.raises(UserError, match=r"entry point 'acme' .* failed to load: RuntimeError"):
        load_registry()


def test_check_needing_an_uncollected_snapshot_is_rejected(site):
    install_pack(
        site,
        textwrap.dedent("""
        from checks import Finding, Snapshot, check

        class Orphans(Snapshot):
            names: list[str]

        @check(id="acme.orphan.any", title="t", severity="low")
        def orphan(items: Orphans):
            yield from ()
    """),
    )
    with pytest.raises(UserError, match="needs Orphans, but no collector provides it"):
        load_registry()
