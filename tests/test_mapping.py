"""Check -> control mapping: loading, merging overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.errors import UserError
from collector.mapping import Mapping, Pair, Strength, load_mapping

KNOWN = {"aws.s3.public_access_blocked", "aws.iam.root_mfa_enabled", "aws.s3.encrypted"}
BASE = """\
aws.s3.public_access_blocked:
  A.8.3: {strength: sufficient, why: public buckets bypass information access restriction}
  A.8.12: {strength: supporting, why: "a public bucket is the commonest cloud data-leakage path"}
aws.iam.root_mfa_enabled:
  A.8.5: {strength: sufficient, why: the root user must need a second factor}
  A.5.17: {strength: supporting, why: root credentials are the strongest secret}
"""
SUFFICIENT, SUPPORTING = Strength.SUFFICIENT, Strength.SUPPORTING


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
        "A.8.3": Pair(SUFFICIENT, "public buckets bypass information access restriction"),
        "A.8.12": Pair(SUPPORTING, "a public bucket is the commonest cloud data-leakage path"),
    }
    assert mapping.pair("aws.iam.root_mfa_enabled", "A.5.17").strength is SUPPORTING
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
  A.8.3: {strength: supporting, why: our own wording}
  A.8.12: null
  A.5.15: {strength: supporting, why: public buckets defeat access control}
aws.iam.root_mfa_enabled: null
aws.s3.encrypted:
  A.8.24: {strength: sufficient, why: encryption at rest}
""",
    )
    assert mapping.controls_for("aws.s3.public_access_blocked") == {
        "A.5.15": Pair(SUPPORTING, "public buckets defeat access control"),
        "A.8.3": Pair(SUPPORTING, "our own wording"),
    }
    assert mapping.controls_for("aws.iam.root_mfa_enabled") == {}
    assert mapping.checks_for("A.8.5") == ()
    assert mapping.checks_for("A.8.24") == ("aws.s3.encrypted",)
    assert mapping.unmapped(KNOWN) == ["aws.iam.root_mfa_enabled"]


def test_overrides_apply_in_order(catalogue: Catalogue, tmp_path: Path) -> None:
    mapping = _load(
        catalogue,
        tmp_path,
        "aws.s3.encrypted:\n  A.8.24: {strength: supporting, why: first}\n",
        "aws.s3.encrypted:\n  A.8.24: {strength: sufficient, why: second}\n",
    )
    assert mapping.controls_for("aws.s3.encrypted") == {"A.8.24": Pair(SUFFICIENT, "second")}


def test_override_changes_one_field_of_an_existing_pair(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    mapping = _load(
        catalogue,
        tmp_path,
        "aws.s3.public_access_blocked:\n  A.8.3: {strength: supporting}\n"
        "  A.8.12: {why: our words}\n",
    )
    assert mapping.controls_for("aws.s3.public_access_blocked") == {
        "A.8.3": Pair(SUPPORTING, "public buckets bypass information access restriction"),
        "A.8.12": Pair(SUPPORTING, "our words"),
    }


def test_several_checks_per_control_sorted(catalogue: Catalogue, tmp_path: Path) -> None:
    mapping = _load(
        catalogue, tmp_path, "aws.s3.encrypted:\n  A.8.3: {strength: supporting, why: also}\n"
    )
    assert mapping.checks_for("A.8.3") == ("aws.s3.encrypted", "aws.s3.public_access_blocked")


def test_empty_override_is_harmless(catalogue: Catalogue, tmp_path: Path) -> None:
    assert len(list(_load(catalogue, tmp_path, "").pairs())) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "aws.s3.nope:\n  A.8.3: {strength: supporting, why: x}\n",
            "override0.yaml: check 'aws.s3.nope' is not a registered check",
        ),
        (
            "aws.s3.encrypted:\n  A.5.99: {strength: supporting, why: x}\n",
            "override0.yaml: check 'aws.s3.encrypted': 'A.5.99' is not an Annex A 2022 control",
        ),
        (
            "aws.s3.encrypted:\n  A.10.1.1: {strength: supporting, why: x}\n",
            "override0.yaml: check 'aws.s3.encrypted': 'A.10.1.1' is not an Annex A 2022 control"
            " (a 2013 id; use the 2022 id)",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: {strength: strong, why: x}\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': field 'strength': "
            "'strong' is not one of sufficient, supporting",
        ),
        (
            "aws.s3.public_access_blocked:\n  A.8.3: {strength: [sufficient]}\n",
            "override0.yaml: check 'aws.s3.public_access_blocked', control 'A.8.3': "
            "field 'strength': ['sufficient'] is not one of sufficient, supporting",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: {why: x}\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "field 'strength' is required for a new pair",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: {strength: supporting}\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "field 'why' is required for a new pair",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: {strength: supporting, why: x, weight: 2}\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "unknown field 'weight' (expected strength, why)",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: encryption at rest\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "expected {strength: sufficient|supporting, why: one line}, got str",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: {strength: supporting, why: ''}\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "field 'why': the rationale must be a non-empty string",
        ),
        (
            "aws.s3.encrypted:\n  A.8.24: {strength: supporting, why: [a, b]}\n",
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "field 'why': the rationale must be a non-empty string",
        ),
        (
            'aws.s3.encrypted:\n  A.8.24: {strength: supporting, why: "two\\nlines"}\n',
            "override0.yaml: check 'aws.s3.encrypted', control 'A.8.24': "
            "field 'why': the rationale must be one line",
        ),
        (
            "aws.s3.encrypted: [A.8.24]\n",
            "override0.yaml: check 'aws.s3.encrypted': expected a mapping of control id -> "
            "{strength: sufficient|supporting, why: one line}, got list",
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
    base = _write(
        tmp_path, "checks.yaml", "aws.s3.gone:\n  A.8.3: {strength: supporting, why: x}\n"
    )
    with pytest.raises(UserError, match=r"^checks\.yaml: check 'aws\.s3\.gone'"):
        load_mapping(catalogue, KNOWN, base=base)


def test_unreadable_file(catalogue: Catalogue, tmp_path: Path) -> None:
    base = _write(tmp_path, "checks.yaml", BASE)
    with pytest.raises(UserError, match=r"^missing\.yaml: cannot read file"):
        load_mapping(catalogue, KNOWN, [tmp_path / "missing.yaml"], base=base)


def test_bad_file_leaves_nothing_half_applied(catalogue: Catalogue, tmp_path: Path) -> None:
    # The error surfaces before any pair of the bad file is merged; no Mapping is returned.
    with pytest.raises(UserError):
        _load(
            catalogue,
            tmp_path,
            "aws.s3.encrypted:\n  A.8.24: {strength: supporting, why: ok}\n"
            "aws.s3.public_access_blocked:\n  A.8.3: {strength: strong}\n",
        )
