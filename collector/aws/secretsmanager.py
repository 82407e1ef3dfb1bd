"""Secrets Manager collector: ListSecrets only; secret values are never fetched."""

from __future__ import annotations

from checks.aws.secretsmanager import ManagedSecret, ManagedSecrets
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(ManagedSecrets, permissions=["secretsmanager:ListSecrets"], scope="region")
def managed_secrets(scope: AwsScope) -> ManagedSecrets:
    """Every secret's name, ARN and RotationEnabled flag (paginated)."""
    items = [
        ManagedSecret(
            name=s["Name"], arn=s["ARN"], rotation_enabled=bool(s.get("RotationEnabled", False))
        )
        for page in scope.client("secretsmanager").get_paginator("list_secrets").paginate()
        for s in page.get("SecretList", [])
    ]
    return ManagedSecrets(region=scope.region, items=tuple(items))
