"""Meta-tests over the whole: every check registered, mapped and valid; bad plugins rejected."""

from __future__ import annotations

import re

import pytest

from checks.api import Finding, Snapshot, check, spec_of
from collector.catalogue import load_catalogue
from collector.mapping import load_mapping
from collector.registry import load_registry

FIRST_AWS_CHECKS = {
    "aws.iam.root_mfa_enabled",
    "aws.iam.console_users_mfa",
    "aws.iam.access_keys_rotated",
    "aws.iam.password_policy_strong",
    "aws.s3.public_access_blocked",
    "aws.s3.default_encryption",
    "aws.cloudtrail.multi_region_logging",
    "aws.ec2.ebs_encryption_by_default",
}


@pytest.fixture(scope="module")
def registry():
    return load_registry(entry_point_packs=False)


def test_builtin_checks_registered(registry):
    assert set(registry.checks) >= FIRST_AWS_CHECKS
    assert all(origin == "builtin" for origin in registry.origins.values())


def test_every_check_is_mapped_and_every_mapping_resolves(registry):
    catalogue = load_catalogue()
    mapping = load_mapping(catalogue, registry.checks.keys())  # raises on unknown ids
    assert mapping.unmapped(registry.checks) == []
    for check_id, control, pair in mapping.pairs():
        assert check_id in registry.checks and control in catalogue
        assert pair.strength in ("sufficient", "supporting")
        assert pair.why.strip() and "\n" not in pair.why


#: Permission notation per provider; others use the IAM-style ``service:Action``.
PERMISSION_FORMATS = {
    "azure": r"azure-role:[A-Z][A-Za-z]+( [A-Z][A-Za-z]+)*",  # built-in Azure RBAC role
    "entra": r"graph:[A-Z][A-Za-z-]+(\.[A-Z][A-Za-z]+)+",  # Graph application permission
    "intune": r"graph:[A-Z][A-Za-z-]+(\.[A-Z][A-Za-z]+)+",  # User-LifeCycleInfo.Read.All too
    "gcp": r"gcp:[a-z]+(\.[a-z]+)\.[a-z][A-Za-z]+",  # IAM permission: service.resource.verb
    "osquery": r"osquery:[a-z_]+",  # an osquery table osqueryi reads
    "workspace": r"workspace:https://www\.googleapis\.com/auth/admin\.(directory|reports)\.[a-z.]+\.readonly",
    "okta": r"okta:okta\.[a-z]+\.(read|manage)",  # an Okta OAuth scope
    "fleet": r"fleet:(observer|observer_plus|maintainer|admin)",  # a Fleet global role
    "github": r"github:(organization|repository):[a-z_]+",  # a GitHub App permission (read)
}


def test_every_check_declares_its_permissions(registry):
    for spec in registry.checks.values():
        assert registry.permissions_for(spec) or spec.across, spec.id
        for provider in spec.providers:  # a cross-provider check: each input's own notation
            permissions = registry.permissions_for(spec, provider)
            pattern = PERMISSION_FORMATS.get(provider, r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+")
            assert all(re.fullmatch(pattern, p) for p in permissions), spec.id


def test_check_metadata_is_complete(registry):
    for spec in registry.checks.values():
        assert spec.title and spec.remediation, spec.id
        assert spec.provider == spec.id.split(".")[0]
        assert registry.scope_of(spec) in ("account", "region")


class Things(Snapshot):
    names: list[str]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "NoDots"}, "id must look like provider.service.name"),
        ({"severity": "urgent"}, "severity must be one of"),
        ({"interval": "soon"}, "invalid duration 'soon'"),
        ({"version": 0}, "version must be a positive integer"),
    ],
)
def test_invalid_metadata_rejected_at_load(kwargs, message):
    meta = {"id": "lab.things.ok", "title": "t", "severity": "low"} | kwargs

    @check(**meta)
    def things_ok(things: Things):
        yield Finding(resource="x", passed=True, message="ok")

    with pytest.raises(ValueError, match=message):
        spec_of(things_ok)


def test_parameter_without_snapshot_type_rejected():
    @check(id="lab.things.untyped", title="t", severity="low")
    def untyped(things):
        yield from ()

    with pytest.raises(ValueError, match="parameter 'things' must be annotated"):
        spec_of(untyped)


AWS_REQUIRED_CONTROLS = [
    "A.5.9",
    "A.5.13",
    "A.5.16",
    "A.5.17",
    "A.5.18",
    "A.5.28",
    "A.8.2",
    "A.8.3",
    "A.8.5",
    "A.8.8",
    "A.8.9",
    "A.8.13",
    "A.8.14",
    "A.8.15",
    "A.8.16",
    "A.8.20",
    "A.8.21",
    "A.8.22",
    "A.8.24",
]


def test_aws_checks_evidence_the_promised_controls(registry):
    mapping = load_mapping(load_catalogue(), registry.checks.keys())
    aws = [c for c in registry.checks if c.startswith("aws.")]
    covered = {control for check in aws for control in mapping.controls_for(check)}
    assert len(aws) >= 40
    assert [c for c in AWS_REQUIRED_CONTROLS if c not in covered] == []
