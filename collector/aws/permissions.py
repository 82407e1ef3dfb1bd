"""The least-privilege, read-only IAM policy for the selected AWS checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.aws.accounts import PERMISSIONS as ACCOUNT_PERMISSIONS


def policy_document(actions: Iterable[str]) -> dict[str, Any]:
    """An IAM policy document allowing exactly ``actions`` (plus account resolution's)."""
    allowed = sorted(set(actions) | set(ACCOUNT_PERMISSIONS))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AnnexaReadOnly", "Effect": "Allow", "Action": allowed, "Resource": "*"}
        ],
    }
