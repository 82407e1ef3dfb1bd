"""The identity policy snapshot: the source of truth and how accounts are matched to people."""

from __future__ import annotations

from typing import ClassVar, Literal

from checks.api import Snapshot

__all__ = ["ACCOUNT_KINDS", "IdentityPolicy"]

#: The kinds of account an account reference (``github:ann-gh``) can name.
ACCOUNT_KINDS = ("iam", "identity_center", "github", "okta", "workspace", "entra")


class IdentityPolicy(Snapshot):
    """The ``identity:`` settings as evidence: which provider says who works here, the alias
    file's entries (person e-mail -> account references), and what counts as privileged."""

    provider: ClassVar[str] = "identity"
    resource_noun: ClassVar[str] = "people"

    source: Literal["entra", "okta", "workspace"]
    aliases: dict[str, tuple[str, ...]]
    match_local_part: bool
    privileged_permission_sets: tuple[str, ...]
    privileged_policies: tuple[str, ...]
    ignore: tuple[str, ...]
