"""Config file + environment -> Settings; bad config is one clear line."""

from pathlib import Path

import pytest

from collector.errors import UserError
from collector.settings import load_settings


def test_defaults_use_sqlite_in_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("ANNEXA_CONFIG", raising=False)
    monkeypatch.delenv("ANNEXA_DATABASE_URL", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.store_url == f"sqlite:///{tmp_path / 'annexa.sqlite'}"
    assert settings.aws.regions == "all" and len(settings.aws.accounts) == 1


def test_file_then_environment_precedence_and_relative_paths(tmp_path, monkeypatch):
    config = tmp_path / "conf" / "annexa.yaml"
    config.parent.mkdir()
    config.write_text(
        "soa: soa.csv\nmappings: [extra.yaml]\nconcurrency: 3\n"
        "database_url: sqlite:///from-file.sqlite\naws:\n  regions: [eu-west-1]\n"
    )
    monkeypatch.setenv("ANNEXA_DATABASE_URL", "sqlite:///from-env.sqlite")
    settings = load_settings(config)
    assert settings.soa == config.parent / "soa.csv"
    assert settings.mappings == [config.parent / "extra.yaml"]
    assert settings.concurrency == 3
    assert settings.aws.regions == ["eu-west-1"]
    assert settings.database_url == "sqlite:///from-env.sqlite"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("concurrency: lots\n", "annexa.yaml (or ANNEXA_* environment): concurrency:"),
        ("aws:\n  acounts: []\n", "aws.acounts: Extra inputs are not permitted"),
        ("- a list\n", "config must be a mapping"),
        ("concurrency: [\n", "invalid YAML"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path, text, expected):
    config = tmp_path / "annexa.yaml"
    config.write_text(text)
    with pytest.raises(UserError) as caught:
        load_settings(config)
    assert expected in str(caught.value)
    assert "annexa.yaml" in str(caught.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match=r"nope\.yaml: cannot read file"):
        load_settings(Path(tmp_path / "nope.yaml"))


def test_nested_relative_paths_resolve_against_the_config_folder(tmp_path):
    config = tmp_path / "conf" / "annexa.yaml"
    config.parent.mkdir()
    config.write_text(
        "gcp:\n  credentials: service_account_file\n  key_file: keys/sa.json\n"
        "  scopes: [projects/p]\n"
        "azure:\n  tenants:\n    - tenant_id: 00000000-0000-0000-0000-000000000001\n"
        "      credential: certificate\n      client_id: app\n      certificate_path: c.pem\n"
    )
    settings = load_settings(config)
    assert settings.gcp.key_file == config.parent / "keys" / "sa.json"
    assert settings.azure.tenants[0].certificate_path == config.parent / "c.pem"
