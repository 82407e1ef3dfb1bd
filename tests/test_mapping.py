"""Check -> control mapping: loading, merging overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.errors import UserError
from collector.mapping import Mapping, load_mapping

KNOWN = {"aws.s3.public_access_blocked", "aws.iam.root_mfa_enabled", "aws.s3.encrypted"}
BASE = """\
aws.s3.public_access_blocked:
  A.8.3: public buckets bypass information access restriction
  A.8.12: a public bucket is the commonest cloud data-leakage path
aws.iam.root_mfa_enabled:
  A.8.5: the root user must need a second factor
  A.5.17: root credentials are the most powerful authentication information
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _load(catalogue: Catalogue, tmp_path: Path, *overrides: str) -> Mapping:
    base = _write(tmp_path, "checks.yaml", BASE)
    paths = [_write(tmp_path, f"override{i}.yaml", t) for i, t in enumerate(overrides)]
    return load_mapping(catalogue, KNOWN, paths, base=base)


def test_base_mapping(catalogue: Catalogue, tmp_path: Path) -> None:
    mapping = _load(catalogue, tmp_path)
    assert mapping.controls_for("aws.s3.public_access_blocked") == {
        "A.8.3": "public buckets bypass information access restriction",
        "A.8.12": "a public bucket is the commonest cloud data-leakage path",
    }
    assert list(mapping.controls_for("aws.iam.root_mfa_enabled")) == ["A.5.17", "A.8.5"]
    assert mapping.controls_for("aws.s3.encrypted") == {}
    assert mapping.checks_for("A.8.3") == ("aws.s3.public_access_blocked",)
    assert mapping.checks_for("A.5.1") == ()
    assert len(list(mapping.pairs())) == 4
    assert mapping.unmapped(KNOWN) == ["aws.s3.encrypted"]
    assert mapping.mapped_controls() == ("A.5.17", "A.8.3", "A.8.5", "A.8.12")


def test_override_adds_replaces_and_removes(catalogue: Catalogue, tmp_path: Path) -> None:
    mapping = _load(
        catalogue,
        tmp_path,
        """\
aws.s3.public_access_blocked:
  A.8.3: our own wording
  A.8.12: null
  A.5.15: public buckets defeat access control
aws.iam.root_mfa_enabled: null
aws.s3.encrypted:
  A.8.24: encryption at rest
""",
    )
    assert mapping.controls_for("aws.s3.public_access_blocked") == {
        "A.5.15": "public buckets defeat access control",
        "A.8.3": "our own wording",
    }
    assert mapping.controls_for("aws.iam.root_mfa_enabled") == {}
    assert mapping.checks_for("A.8.5") == ()
    assert mapping.checks_for("A.8.24") == ("aws.s3.encrypted",)
    assert mapping.unmapped(KNOWN) == ["aws.iam.root_mfa_enabled"]


def test_overrides_apply_in_order(catalogue: Catalogue, tmp_path: Path) -> None:
    mapping = _load(
        catalogue,
        tmp_path,
        "aws.s3.encrypted:\n  A.8.24: first\n",
        "aws.s3.encrypted:\n  A.8.24: second\n",
    )
    assert mapping.controls_for("aws.s3.encrypted") == {"A.8.24": "second"}


def test_several_checks_per_control_sorted(catalogue: Catalogue, tmp_path: Path) -> None:
    mapping = _load(catalogue, tmp_path, "aws.s3.encrypted:\n  A.8.3: also relevant\n")
    assert mapping.checks_for("A.8.3") == ("aws.s3.encrypted", "aws.s3.public_access_blocked")


def test_empty_override_is_harmless(catalogue: Catalogue, tmp_path: Path) -> None:
    assert len(list(_load(catalogue, tmp_path, "").pairs())) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "aws.s3.nope:\n  A.8.3: x\n",
            "override0.yaml: check 'aws.s3.nope' is not a registered check",
        ),
        (
            "aws.s3.encrypted:\n  A.5.99: x\n",
            "override0.yaml: check 'aws.s3.encrypted': 'A.5.99' is not an Annex A 2022 control",
        ),
        (
            "aws.s3.encrypted:\n  A.10.1.1: x\n",
            "override0.yaml: check 'aws.s3.encrypted': 'A.10.1.1' is not an Annex A 2022 control"
            " (a 2013 id; use the 2022 id)",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: ''\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "the rationale must be a non-empty string",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: [a, b]\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "the rationale must be a non-empty string",
        ),
        (
            'aws.s3.encrypted:\n  A.8.24: "two\\nlines"\n',
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "the rationale must be one line",
        ),
        (
            "aws.s3.encrypted: [A.8.24]\n",
            "override0.yaml: check 'aws.s3.encrypted': expected a mapping of control id -> "
            "rationale, got list",
        ),
        ("- a list\n", "override0.yaml: expected a mapping of check id"),
        ("aws.s3.encrypted: {A.8.24: [}\n", "override0.yaml line 1: invalid YAML: "),
    ],
)
def test_invalid_override(catalogue: Catalogue, tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        _load(catalogue, tmp_path, text)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_invalid_base_names_it(catalogue: Catalogue, tmp_path: Path) -> None:
    base = _write(tmp_path, "checks.yaml", "aws.s3.gone:\n  A.8.3: x\n")
    with pytest.raises(UserError, match=r"^checks\.yaml: check 'aws\.s3\.gone'"):
        load_mapping(catalogue, KNOWN, base=base)


def test_unreadable_file(catalogue: Catalogue, tmp_path: Path) -> None:
    base = _write(tmp_path, "checks.yaml", BASE)
    with pytest.raises(UserError, match=r"^missing\.yaml: cannot read file"):
        load_mapping(catalogue, KNOWN, [tmp_path / "missing.yaml"], base=base)


def test_bad_file_leaves_nothing_half_applied(catalogue: Catalogue, tmp_path: Path) -> None:
    # The error surfaces before any pair of the bad file is merged; no Mapping is returned.
    with pytest.raises(UserError):
        _load(catalogue, tmp_path, "aws.s3.encrypted:\n  A.8.24: ok\naws.s3.nope:\n  A.8.3: x\n")
