"""The check manifest (``collector/checks_manifest.json``): what ``status``, ``checks`` and
``controls`` read instead of importing every check module. It must say exactly what the
registry says, and step aside when it cannot (stale sources, an entry-point pack installed).
The same for the shipped YAML's parsed form (``mappings/annex_a/parsed.json``)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
import yaml

from collector import manifest, report, yamlfile
from collector.app import load_workspace, open_store
from collector.errors import UserError
from collector.manifest import Manifest, generate, load_index, read_manifest
from collector.registry import Registry
from collector.settings import load_settings
from storage import NewEvidence
from tests.test_plugins import PACK, install_pack, site  # noqa: F401 (fixture)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_shipped_manifest_is_what_the_registry_generates() -> None:
    assert manifest.PATH.read_text(encoding="utf-8") == generate(), (
        "collector/checks_manifest.json is stale: run `python -m collector.manifest`"
    )


@pytest.fixture
def both(tmp_path):
    """The same settings as a full workspace and as a manifest-based one."""
    settings = load_settings(data_dir=tmp_path)
    lean = load_workspace(settings, metadata_only=True)
    assert isinstance(lean.registry, Manifest)
    return load_workspace(settings), lean


def test_checks_and_controls_rows_equal_the_registrys(both) -> None:
    full, lean = both

    assert report.check_rows(lean, lean.checks()) == report.check_rows(full, full.checks())
    for provider in (None, "aws", "gcp"):
        assert report.control_rows(lean, provider) == report.control_rows(full, provider)
    assert lean.checks(control="A.8.24") == [
        lean.registry.checks[c.id] for c in full.checks(control="A.8.24")
    ]
    assert lean.intervals() == full.intervals()


def test_status_over_stored_evidence_equals_the_registrys(both, tmp_path) -> None:
    full, lean = both
    soa, _ = full.soa(None)
    with open_store(full.settings) as store:
        run = store.start_run(started_at=NOW, trigger="test", planned=3)
        for i, (check, status) in enumerate(
            [
                ("aws.s3.default_encryption", "pass"),
                ("aws.iam.root_mfa_enabled", "fail"),
                ("gcp.storage.uniform_bucket_access", "error"),
            ]
        ):
            store.append(
                NewEvidence(
                    run_id=run,
                    check_id=check,
                    check_version=1,
                    provider=check.split(".")[0],
                    account="123456789012",
                    region=None,
                    collected_at=NOW,
                    status=status,
                    summary=f"record {i}",
                    findings=[],
                    observations={},
                    error="boom" if status == "error" else None,
                )
            )
        for at in (NOW, datetime(2026, 9, 1, tzinfo=UTC)):
            assert lean.statuses(store, soa, at) == full.statuses(store, soa, at)


def test_a_stale_manifest_is_not_used(tmp_path) -> None:
    stale = json.loads(manifest.PATH.read_text(encoding="utf-8"))
    stale["fingerprint"] = "0" * 64
    path = tmp_path / "checks_manifest.json"
    path.write_text(json.dumps(stale), encoding="utf-8")

    assert read_manifest(path) is None
    assert read_manifest(tmp_path / "missing.json") is None
    assert isinstance(read_manifest(), Manifest)


def test_an_installed_pack_loads_the_registry(site) -> None:  # noqa: F811 (fixture)
    install_pack(site, PACK)

    index = load_index()

    assert isinstance(index, Registry)
    assert "acme.s3.bucket_prefix" in index.checks


def test_shipped_parsed_yaml_is_what_the_yaml_files_give() -> None:
    assert (yamlfile.SHIPPED / yamlfile.PARSED).read_text(encoding="utf-8") == (
        yamlfile.generate_parsed()
    ), "mappings/annex_a/parsed.json is stale: run `python -m collector.manifest`"
    for path in sorted(yamlfile.SHIPPED.glob("*.yaml")):
        parsed = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        assert yamlfile.read_yaml(path) == parsed, path.name


def test_a_shipped_yaml_file_edited_since_is_parsed(tmp_path, monkeypatch) -> None:
    """parsed.json serves only the exact text it was made from: an edited catalogue is read
    as edited (and a broken one fails as YAML), never as shipped."""
    shutil.copytree(yamlfile.SHIPPED, tmp_path / "annex_a")
    monkeypatch.setattr(yamlfile, "SHIPPED", (tmp_path / "annex_a").resolve())
    controls = tmp_path / "annex_a" / "controls.yaml"
    text = controls.read_text(encoding="utf-8")
    first = yaml.safe_load(text)["controls"][0]
    controls.write_text(text.replace(first["title"], "Edited title", 1), encoding="utf-8")
    assert yamlfile.read_yaml(controls)["controls"][0]["title"] == "Edited title"
    controls.write_text(text + "controls: [\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"^controls\.yaml line \d+: invalid YAML"):
        yamlfile.read_yaml(controls)
